"""Regenerate the Membrane gRPC stubs from ``membrane_integrations/membrane/proto/membrane.proto``.

Usage::

    .venv/bin/python scripts/gen_proto.py            # rewrite the committed stubs
    .venv/bin/python scripts/gen_proto.py --out DIR  # write them to DIR instead (used by a test)

The stubs are generated with grpcio-tools (pinned in the ``dev`` extra) with the include root at
the repository root, so the generated ``membrane_pb2_grpc.py`` imports its messages through the
package (``from membrane_integrations.membrane.proto import membrane_pb2``) instead of a bare
top-level ``import membrane_pb2``.

One edit follows generation (:func:`private_pool`): the file descriptor is built into a private
``DescriptorPool`` instead of protobuf's default pool. The reference client (``import membrane``)
registers the same ``membrane.v1`` symbols in the default pool; two registrations of one symbol
raise ``TypeError: Couldn't build proto file into descriptor pool: duplicate symbol``. Messages and
wire format are unchanged: the method paths (``/membrane.v1.MembraneService/...``) are strings in
``membrane_pb2_grpc.py`` and field numbers do not depend on the pool.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTO_REL = Path("membrane_integrations/membrane/proto/membrane.proto")
PROTO_DIR = ROOT / PROTO_REL.parent
GENERATED = ("membrane_pb2.py", "membrane_pb2.pyi", "membrane_pb2_grpc.py")
_DEFAULT_POOL = "DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile("
_PRIVATE_POOL = (
    "# Private pool (scripts/gen_proto.py): the reference client owns membrane.v1 in the default.\n"
    "POOL = _descriptor_pool.DescriptorPool()\n"
    "DESCRIPTOR = POOL.AddSerializedFile("
)


def private_pool(source: str) -> str:
    """Rewrite generated ``membrane_pb2.py`` source to register into a private descriptor pool."""
    if source.count(_DEFAULT_POOL) != 1:
        raise RuntimeError("unexpected protoc output: no single default-pool registration")
    return source.replace(_DEFAULT_POOL, _PRIVATE_POOL)


def generate(out_dir: Path) -> list[Path]:
    """Generate the three stub files into ``out_dir`` and return their paths."""
    from grpc_tools import protoc  # imported here: grpcio-tools is a dev dependency only

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        include = str(Path(protoc.__file__).parent / "_proto")
        args = [
            "grpc_tools.protoc",
            f"-I{ROOT}",
            f"-I{include}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            str(PROTO_REL),
        ]
        code = protoc.main(args)
        if code != 0:
            raise RuntimeError(f"protoc failed with exit code {code}")
        written = []
        for name in GENERATED:
            target = out_dir / name
            text = (Path(tmp) / PROTO_REL.parent / name).read_text()
            target.write_text(private_pool(text) if name == "membrane_pb2.py" else text)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROTO_DIR, help="output directory")
    ns = parser.parse_args(argv)
    for path in generate(ns.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
