"""Generated protobuf and gRPC stubs for ``membrane.v1`` (see ``scripts/gen_proto.py``)."""
