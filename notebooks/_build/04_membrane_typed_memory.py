# %% [markdown]
# # Membrane: typed, revisable memory with trust and an audit trail
#
# Membrane (`membraned`, a gRPC daemon) stores **typed** records (episodic events and tool runs,
# semantic facts, working state, ...) with a **sensitivity**, a **salience** that decays and
# can be reinforced or penalized, and **revisions** (supersede, contest, retract) that keep an
# audit trail. Reads run under a **trust context**: records one level above the reader's
# clearance come back redacted, higher ones not at all.
#
# This notebook uses the gRPC client (`MembraneClient`) and the LangChain `MembraneToolkit`
# (the tools an agent would call, shown here invoked directly).
#
# **It needs the daemon.** The next cell starts a throwaway `membraned` on 127.0.0.1 with a
# temporary database, found or built by the package launcher: `MEMBRANED_BIN`, a build of
# `MEMBRANED_SOURCE` cached in `.cache/bin`, `go build` of that source, or (Go 1.22+)
#
# ```
# go install github.com/GustyCube/membrane/cmd/membraned@v0.2.0
# ```
#
# `make membraned` does this once. Without Go, the cells marked `%%membraned` are skipped and
# say so.

# %%
%load_ext membrane_integrations.demo.notebook
from membrane_integrations.demo.notebook import start_membraned

daemon = start_membraned()

# %%
%%membraned
from membrane_integrations.demo.membrane_stories import describe
from membrane_integrations.membrane import OutcomeStatus, Sensitivity, TrustContext

client = daemon.client()
print("records so far:", client.get_metrics()["total_records"])

# %% [markdown]
# ## Events and outcomes
#
# An event and a tool run become **episodic** records; an outcome attached later closes the
# event (episodic records are otherwise immutable).

# %%
%%membraned
deploy = client.ingest_event("deploy", "billing@v42", summary="Deployed billing v42", tags=["billing"])
tests = client.ingest_tool_output(
    "run_tests", args={"suite": "billing"}, result={"passed": 118, "failed": 2}
)
deploy = client.ingest_outcome(deploy.id, OutcomeStatus.FAILURE)
for record in (deploy, tests):
    print(describe(record))
    for entry in record.audit_log:
        print(f"    audit: {entry.action.value} by {entry.actor}: {entry.rationale}")

# %% [markdown]
# ## Retrieval under two trust contexts (redaction)
#
# Three facts of rising sensitivity. A reader cleared for `low` gets the `medium` one redacted
# (no payload, no audit log) and never sees the `high` one; a reader cleared for `medium` reads
# the `medium` one and gets the `high` one redacted.

# %%
%%membraned
zone = client.ingest_observation("user", "timezone", "Europe/Lisbon")
phone = client.ingest_observation("user", "phone", "+351 555 0100", sensitivity=Sensitivity.MEDIUM)
card = client.ingest_observation("user", "card_last4", "4242", sensitivity=Sensitivity.HIGH)

for level in (Sensitivity.LOW, Sensitivity.MEDIUM):
    trust = TrustContext(max_sensitivity=level, authenticated=True, actor_id="support-bot")
    print(f"cleared for {level.value}:")
    for record in client.retrieve("contact the user", trust=trust, memory_types=["semantic"]):
        print("   ", describe(record))

# %% [markdown]
# ## The same through the LangChain toolkit
#
# `MembraneToolkit` fixes the trust context, the actor recorded on revisions and the scope; no
# tool argument can change them. Two toolkits with different clearance give an agent different
# views of the same memory (the low one is told about redacted records, not their content).

# %%
%%membraned
from membrane_integrations.langchain import MembraneToolkit

def toolkit(level, **kwargs):
    trust = TrustContext(max_sensitivity=level, authenticated=True, actor_id="support-bot")
    return {
        tool.name: tool
        for tool in MembraneToolkit(
            client=client, trust=trust, actor="support-bot", include_revision_tools=True, **kwargs
        ).get_tools()
    }

low_tools = toolkit(Sensitivity.LOW, include_redacted=True)
medium_tools = toolkit(Sensitivity.MEDIUM)
query = {"task_descriptor": "How do I contact the user?", "memory_types": ["semantic"]}
print("low clearance:\n" + low_tools["membrane_retrieve"].invoke(query))
print("\nmedium clearance:\n" + medium_tools["membrane_retrieve"].invoke(query))

# %% [markdown]
# ## Reinforce and penalize
#
# Salience ranks retrieval and decays over time. Penalizing lowers it at once; reinforcing
# adds the record's reinforcement gain (0 for freshly ingested records) and resets its decay
# clock. Both are audited.

# %%
%%membraned
tools = medium_tools
print(tools["membrane_penalize"].invoke(
    {"record_id": zone.id, "amount": 0.3, "rationale": "the user was travelling"}
))
print(tools["membrane_reinforce"].invoke(
    {"record_id": zone.id, "rationale": "used it to schedule a call"}
))
zone = client.retrieve_by_id(zone.id)
print(describe(zone))
for entry in zone.audit_log:
    print(f"    audit: {entry.action.value} by {entry.actor}: {entry.rationale}")

# %% [markdown]
# ## Supersede
#
# The user moved. Superseding creates a new version and retires the old one (salience 0,
# status `retracted`), linked both ways and audited; nothing is deleted.

# %%
%%membraned
print(tools["membrane_supersede"].invoke({
    "record_id": zone.id,
    "payload_changes": {"object": "America/New_York"},
    "rationale": "the user moved to New York",
}))
old = client.retrieve_by_id(zone.id)
print(describe(old))
for entry in old.audit_log:
    print(f"    audit: {entry.action.value} by {entry.actor}: {entry.rationale}")

# %% [markdown]
# ## Contest, then retract, with the audit trail
#
# Two sources disagree about a rate limit. Contesting marks the record as disputed; once the
# documented value is known to be wrong it is retracted: it disappears from salient retrieval,
# and its whole history stays readable by id.

# %%
%%membraned
documented = client.ingest_observation("billing-api", "rate_limit", 100)
observed = client.ingest_observation("billing-api", "rate_limit", 200)
print(tools["membrane_contest"].invoke({
    "record_id": documented.id,
    "contesting_ref": observed.id,
    "rationale": "observed 200 requests/s in production",
}))
print(describe(client.retrieve_by_id(documented.id)))
print(tools["membrane_retract"].invoke(
    {"record_id": documented.id, "rationale": "the documented limit was wrong"}
))

visible = {r.id for r in client.retrieve("billing-api rate limit", min_salience=0.01)}
print("still retrieved:", documented.id in visible, "| the observed value:", observed.id in visible)
final = client.retrieve_by_id(documented.id)
print(describe(final))
for entry in final.audit_log:
    print(f"    audit: {entry.action.value:9} by {entry.actor}: {entry.rationale}")

# %%
%%membraned
metrics = client.get_metrics()
print({k: metrics[k] for k in ("total_records", "records_by_type", "total_audit_entries")})
client.close()
daemon.stop()
