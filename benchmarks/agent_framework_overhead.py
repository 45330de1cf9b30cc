"""What a Membrain context provider adds to an Agent Framework run, against the raw calls.

Run ``python benchmarks/agent_framework_overhead.py`` (``--runs N``, default 40). Against the
bundled emulator on 127.0.0.1 with the scripted chat client (no model time), it times, with the
rounds interleaved and the medians printed:

* ``bare``: ``agent.run`` with no provider;
* ``raw``: ``bare`` plus the requests the provider makes, sent by hand through the same async
  client (one search; for capture, one count and one add that waits for its job);
* ``provider``: ``agent.run`` with ``MembrainContextProvider`` (recall only, then recall and
  capture of the user's message).

The ratio ``provider / raw`` is what our layer costs on top of the requests themselves (identity,
tenancy, rendering, the ledger). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

from agent_framework import Agent

from membrane_integrations.agent_framework import (
    MembrainContextConfig,
    MembrainContextProvider,
    ScriptedChatClient,
)
from membrane_integrations.emulator import MembrainEmulator
from membrane_integrations.membrain.tenancy import Tenancy


async def _timed(step: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await step()
    return (time.perf_counter() - start) * 1e3


async def main(runs: int) -> None:
    with MembrainEmulator() as emu:
        client = emu.async_client()
        tenancy = Tenancy("bench")
        for i in range(20):
            await client.add(f"bench fact {i}: likes item {i}", scope=tenancy.write_tokens([]))
        bare = Agent(client=ScriptedChatClient())
        providers = {
            mode: MembrainContextProvider(
                MembrainContextConfig(container="bench", capture=mode, base_url=emu.url),
                client=client,
            )
            for mode in ("off", "user")
        }
        agents = {
            m: Agent(client=ScriptedChatClient(), context_providers=[p])
            for m, p in providers.items()
        }
        samples: dict[str, list[float]] = {
            n: [] for n in ("bare", "raw off", "raw user", "off", "user")
        }

        async def raw(capture: bool) -> None:
            text = f"what do I like? {uuid.uuid4().hex}"
            await client.search(text, k=5, scope=tenancy.read_scope([]), response_format="raw")
            await bare.run(text)
            if capture:
                token = f"msg.{uuid.uuid4().hex}"
                await client.count(scope=tenancy.read_scope([f"^{token}$"]))
                await client.add(text, scope=tenancy.write_tokens(["role.user", token]))

        for _ in range(runs):
            text = f"what do I like? {uuid.uuid4().hex}"
            samples["bare"].append(await _timed(lambda t=text: bare.run(t)))
            samples["raw off"].append(await _timed(lambda: raw(False)))
            samples["off"].append(await _timed(lambda t=text: agents["off"].run(t)))
            samples["raw user"].append(await _timed(lambda: raw(True)))
            samples["user"].append(await _timed(lambda t=text: agents["user"].run(f"{t} !")))
        await client.aclose()
    med = {name: statistics.median(values) for name, values in samples.items()}
    print(f"runs per case: {runs} (medians, ms)")
    print(f"  bare agent.run                     {med['bare']:8.2f}")
    for mode, label in (("off", "recall only"), ("user", "recall + capture")):
        ratio = med[mode] / med[f"raw {mode}"]
        print(
            f"  {label:<17} raw {med[f'raw {mode}']:8.2f}  provider {med[mode]:8.2f}"
            f"  provider/raw {ratio:5.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    asyncio.run(main(parser.parse_args().runs))
