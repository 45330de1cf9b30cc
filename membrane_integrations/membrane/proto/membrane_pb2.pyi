from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IngestEventRequest(_message.Message):
    __slots__ = ("source", "event_kind", "ref", "summary", "timestamp", "tags", "scope", "sensitivity")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_KIND_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    source: str
    event_kind: str
    ref: str
    summary: str
    timestamp: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    scope: str
    sensitivity: str
    def __init__(self, source: _Optional[str] = ..., event_kind: _Optional[str] = ..., ref: _Optional[str] = ..., summary: _Optional[str] = ..., timestamp: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., scope: _Optional[str] = ..., sensitivity: _Optional[str] = ...) -> None: ...

class IngestToolOutputRequest(_message.Message):
    __slots__ = ("source", "tool_name", "args", "result", "depends_on", "timestamp", "tags", "scope", "sensitivity")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    source: str
    tool_name: str
    args: bytes
    result: bytes
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    timestamp: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    scope: str
    sensitivity: str
    def __init__(self, source: _Optional[str] = ..., tool_name: _Optional[str] = ..., args: _Optional[bytes] = ..., result: _Optional[bytes] = ..., depends_on: _Optional[_Iterable[str]] = ..., timestamp: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., scope: _Optional[str] = ..., sensitivity: _Optional[str] = ...) -> None: ...

class IngestObservationRequest(_message.Message):
    __slots__ = ("source", "subject", "predicate", "object", "timestamp", "tags", "scope", "sensitivity")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    PREDICATE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    source: str
    subject: str
    predicate: str
    object: bytes
    timestamp: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    scope: str
    sensitivity: str
    def __init__(self, source: _Optional[str] = ..., subject: _Optional[str] = ..., predicate: _Optional[str] = ..., object: _Optional[bytes] = ..., timestamp: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., scope: _Optional[str] = ..., sensitivity: _Optional[str] = ...) -> None: ...

class IngestOutcomeRequest(_message.Message):
    __slots__ = ("source", "target_record_id", "outcome_status", "timestamp")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_STATUS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    source: str
    target_record_id: str
    outcome_status: str
    timestamp: str
    def __init__(self, source: _Optional[str] = ..., target_record_id: _Optional[str] = ..., outcome_status: _Optional[str] = ..., timestamp: _Optional[str] = ...) -> None: ...

class IngestWorkingStateRequest(_message.Message):
    __slots__ = ("source", "thread_id", "state", "next_actions", "open_questions", "context_summary", "active_constraints", "timestamp", "tags", "scope", "sensitivity")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    NEXT_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    OPEN_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_CONSTRAINTS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    source: str
    thread_id: str
    state: str
    next_actions: _containers.RepeatedScalarFieldContainer[str]
    open_questions: _containers.RepeatedScalarFieldContainer[str]
    context_summary: str
    active_constraints: bytes
    timestamp: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    scope: str
    sensitivity: str
    def __init__(self, source: _Optional[str] = ..., thread_id: _Optional[str] = ..., state: _Optional[str] = ..., next_actions: _Optional[_Iterable[str]] = ..., open_questions: _Optional[_Iterable[str]] = ..., context_summary: _Optional[str] = ..., active_constraints: _Optional[bytes] = ..., timestamp: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., scope: _Optional[str] = ..., sensitivity: _Optional[str] = ...) -> None: ...

class IngestResponse(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: bytes
    def __init__(self, record: _Optional[bytes] = ...) -> None: ...

class TrustContext(_message.Message):
    __slots__ = ("max_sensitivity", "authenticated", "actor_id", "scopes")
    MAX_SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    AUTHENTICATED_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    max_sensitivity: str
    authenticated: bool
    actor_id: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, max_sensitivity: _Optional[str] = ..., authenticated: bool = ..., actor_id: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ...) -> None: ...

class RetrieveRequest(_message.Message):
    __slots__ = ("task_descriptor", "trust", "memory_types", "min_salience", "limit")
    TASK_DESCRIPTOR_FIELD_NUMBER: _ClassVar[int]
    TRUST_FIELD_NUMBER: _ClassVar[int]
    MEMORY_TYPES_FIELD_NUMBER: _ClassVar[int]
    MIN_SALIENCE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    task_descriptor: str
    trust: TrustContext
    memory_types: _containers.RepeatedScalarFieldContainer[str]
    min_salience: float
    limit: int
    def __init__(self, task_descriptor: _Optional[str] = ..., trust: _Optional[_Union[TrustContext, _Mapping]] = ..., memory_types: _Optional[_Iterable[str]] = ..., min_salience: _Optional[float] = ..., limit: _Optional[int] = ...) -> None: ...

class RetrieveResponse(_message.Message):
    __slots__ = ("records", "selection")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedScalarFieldContainer[bytes]
    selection: bytes
    def __init__(self, records: _Optional[_Iterable[bytes]] = ..., selection: _Optional[bytes] = ...) -> None: ...

class RetrieveByIDRequest(_message.Message):
    __slots__ = ("id", "trust")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRUST_FIELD_NUMBER: _ClassVar[int]
    id: str
    trust: TrustContext
    def __init__(self, id: _Optional[str] = ..., trust: _Optional[_Union[TrustContext, _Mapping]] = ...) -> None: ...

class MemoryRecordResponse(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: bytes
    def __init__(self, record: _Optional[bytes] = ...) -> None: ...

class SupersedeRequest(_message.Message):
    __slots__ = ("old_id", "new_record", "actor", "rationale")
    OLD_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_RECORD_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    old_id: str
    new_record: bytes
    actor: str
    rationale: str
    def __init__(self, old_id: _Optional[str] = ..., new_record: _Optional[bytes] = ..., actor: _Optional[str] = ..., rationale: _Optional[str] = ...) -> None: ...

class ForkRequest(_message.Message):
    __slots__ = ("source_id", "forked_record", "actor", "rationale")
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    FORKED_RECORD_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    source_id: str
    forked_record: bytes
    actor: str
    rationale: str
    def __init__(self, source_id: _Optional[str] = ..., forked_record: _Optional[bytes] = ..., actor: _Optional[str] = ..., rationale: _Optional[str] = ...) -> None: ...

class RetractRequest(_message.Message):
    __slots__ = ("id", "actor", "rationale")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    id: str
    actor: str
    rationale: str
    def __init__(self, id: _Optional[str] = ..., actor: _Optional[str] = ..., rationale: _Optional[str] = ...) -> None: ...

class RetractResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MergeRequest(_message.Message):
    __slots__ = ("ids", "merged_record", "actor", "rationale")
    IDS_FIELD_NUMBER: _ClassVar[int]
    MERGED_RECORD_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    merged_record: bytes
    actor: str
    rationale: str
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., merged_record: _Optional[bytes] = ..., actor: _Optional[str] = ..., rationale: _Optional[str] = ...) -> None: ...

class ContestRequest(_message.Message):
    __slots__ = ("id", "contesting_ref", "actor", "rationale")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONTESTING_REF_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    id: str
    contesting_ref: str
    actor: str
    rationale: str
    def __init__(self, id: _Optional[str] = ..., contesting_ref: _Optional[str] = ..., actor: _Optional[str] = ..., rationale: _Optional[str] = ...) -> None: ...

class ContestResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReinforceRequest(_message.Message):
    __slots__ = ("id", "actor", "rationale")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    id: str
    actor: str
    rationale: str
    def __init__(self, id: _Optional[str] = ..., actor: _Optional[str] = ..., rationale: _Optional[str] = ...) -> None: ...

class ReinforceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PenalizeRequest(_message.Message):
    __slots__ = ("id", "amount", "actor", "rationale")
    ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    id: str
    amount: float
    actor: str
    rationale: str
    def __init__(self, id: _Optional[str] = ..., amount: _Optional[float] = ..., actor: _Optional[str] = ..., rationale: _Optional[str] = ...) -> None: ...

class PenalizeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetMetricsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MetricsResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: bytes
    def __init__(self, snapshot: _Optional[bytes] = ...) -> None: ...
