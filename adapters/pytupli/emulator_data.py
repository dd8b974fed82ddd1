"""The deterministic seed of pytupli: users, groups, 32 benchmarks, ~70 episodes, 24 small artifacts.

One plan (``build_plan``), two loaders: ``seed_store`` fills the emulator directly, and the real-server test
script replays the same plan through pytupli's REST API (same order of creates and publishes, so both list in
the same order). Items are linked: episodes and most artifacts belong to a benchmark; ``cartpole-v1`` is in
several groups; some items stay private, some are only in ``team-ml`` or ``robotics``; more than 20 of each
kind are published in ``global`` so that anonymous lists fill a page.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.pytupli.emulator_store import ArtifactFile, Store

__all__ = [
    "DEFAULT_ADMIN_PASSWORD",
    "SeedArtifact",
    "SeedBenchmark",
    "SeedEpisode",
    "SeedGroup",
    "SeedPlan",
    "build_plan",
    "seed_store",
]

DEFAULT_ADMIN_PASSWORD = "pytupli-admin"
SEED_START = datetime(2025, 3, 3, 9, 0, 0, 250000)

# name, gymnasium id, family, difficulty, version, max steps
_ENVS: tuple[tuple[str, str, str, str, str | None, int], ...] = (
    ("cartpole-v1", "CartPole-v1", "classic_control", "easy", "1", 500),
    ("mountaincar-v0", "MountainCar-v0", "classic_control", "easy", "0", 200),
    ("mountaincar-continuous-v0", "MountainCarContinuous-v0", "classic_control", "easy", "0", 999),
    ("acrobot-v1", "Acrobot-v1", "classic_control", "easy", "1", 500),
    ("pendulum-v1", "Pendulum-v1", "classic_control", "easy", "1", 200),
    ("blackjack-v1", "Blackjack-v1", "toy_text", "easy", "1", 100),
    ("taxi-v3", "Taxi-v3", "toy_text", "easy", "3", 200),
    ("cliffwalking-v0", "CliffWalking-v0", "toy_text", "easy", "0", 200),
    ("frozenlake-v1", "FrozenLake-v1", "toy_text", "easy", "1", 100),
    ("frozenlake8x8-v1", "FrozenLake8x8-v1", "toy_text", "medium", "1", 200),
    ("lunarlander-v3", "LunarLander-v3", "box2d", "medium", "3", 1000),
    ("lunarlander-continuous-v3", "LunarLanderContinuous-v3", "box2d", "medium", "3", 1000),
    ("bipedalwalker-v3", "BipedalWalker-v3", "box2d", "medium", "3", 1600),
    ("bipedalwalker-hardcore-v3", "BipedalWalkerHardcore-v3", "box2d", "hard", "3", 2000),
    ("carracing-v3", "CarRacing-v3", "box2d", "medium", "3", 1000),
    ("ant-v5", "Ant-v5", "mujoco", "hard", "5", 1000),
    ("halfcheetah-v5", "HalfCheetah-v5", "mujoco", "hard", "5", 1000),
    ("hopper-v5", "Hopper-v5", "mujoco", "hard", "5", 1000),
    ("humanoid-v5", "Humanoid-v5", "mujoco", "hard", "5", 1000),
    ("humanoidstandup-v5", "HumanoidStandup-v5", "mujoco", "hard", "5", 1000),
    ("invertedpendulum-v5", "InvertedPendulum-v5", "mujoco", "medium", "5", 1000),
    ("inverteddoublependulum-v5", "InvertedDoublePendulum-v5", "mujoco", "hard", "5", 1000),
    ("pusher-v5", "Pusher-v5", "mujoco", "hard", "5", 100),
    ("reacher-v5", "Reacher-v5", "mujoco", "medium", "5", 50),
    ("swimmer-v5", "Swimmer-v5", "mujoco", "medium", "5", 1000),
    ("walker2d-v5", "Walker2d-v5", "mujoco", "hard", "5", 1000),
    ("pong-v5", "ALE/Pong-v5", "atari", "hard", "5", 27000),
    ("breakout-v5", "ALE/Breakout-v5", "atari", "hard", "5", 27000),
    ("seaquest-v5", "ALE/Seaquest-v5", "atari", "hard", "5", 27000),
    ("spaceinvaders-v5", "ALE/SpaceInvaders-v5", "atari", "hard", "5", 27000),
    ("microgrid-v1", "pytupli/Microgrid-v1", "custom", "medium", None, 8760),
    ("gridworld-v0", "pytupli/GridWorld-v0", "custom", "easy", None, 100),
)
_OWNERS = {"frozenlake8x8-v1": "alice", "carracing-v3": "alice", "microgrid-v1": "alice", "reacher-v5": "alice",
           "swimmer-v5": "alice", "ant-v5": "bob", "hopper-v5": "bob", "walker2d-v5": "bob"}
_PUBLISH = {
    "cartpole-v1": ("global", "team-ml", "robotics"), "humanoidstandup-v5": (), "pusher-v5": ("team-ml",),
    "bipedalwalker-hardcore-v3": ("robotics",), "frozenlake8x8-v1": ("team-ml", "global"),
    "carracing-v3": ("team-ml",), "microgrid-v1": ("team-ml", "global"), "reacher-v5": ("global",),
    "swimmer-v5": (), "ant-v5": ("robotics", "global"), "hopper-v5": ("robotics",), "walker2d-v5": ("global",),
}
_POLICIES = ("random", "ppo", "dqn", "sac")


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedGroup:
    """A group the admin creates, and the members the admin adds (user, roles)."""

    name: str
    description: str
    members: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedBenchmark:
    """A benchmark, its owner and the groups it gets published in (in order)."""

    owner: str
    hash: str
    serialized: str
    metadata: dict[str, Any]
    publish: tuple[str, ...]

    @property
    def name(self) -> str:
        return str(self.metadata["name"])


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedEpisode:
    """An episode of the benchmark named ``benchmark`` (tuples with every default spelled out)."""

    owner: str
    benchmark: str
    metadata: dict[str, Any]
    tuples: tuple[dict[str, Any], ...]
    publish: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedArtifact:
    """A small file, optionally tied to the benchmark named ``benchmark``."""

    owner: str
    name: str
    description: str
    benchmark: str | None
    extra: dict[str, Any]
    data: bytes
    content_type: str
    publish: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedPlan:
    """Everything to create, in order; ``passwords`` holds every user's password (admin's included)."""

    passwords: dict[str, str]
    groups: tuple[SeedGroup, ...]
    benchmarks: tuple[SeedBenchmark, ...]
    episodes: tuple[SeedEpisode, ...]
    artifacts: tuple[SeedArtifact, ...]

    def benchmark(self, name: str) -> SeedBenchmark:
        """The planned benchmark called ``name``."""
        return next(b for b in self.benchmarks if b.name == name)


def _benchmarks() -> tuple[SeedBenchmark, ...]:
    out = []
    for name, env_id, family, difficulty, version, steps in _ENVS:
        serialized = json.dumps({"env_id": env_id, "max_episode_steps": steps, "family": family}, sort_keys=True)
        description = "" if name == "gridworld-v0" else f"{env_id} ({family.replace('_', ' ')}), {steps} steps."
        meta = {"name": name, "description": description, "difficulty": difficulty, "version": version,
                "extra": {"env_id": env_id, "family": family, "max_episode_steps": steps}}
        out.append(SeedBenchmark(owner=_OWNERS.get(name, "admin"), hash=hashlib.sha256(serialized.encode()).hexdigest(),
                                 serialized=serialized, metadata=meta, publish=_PUBLISH.get(name, ("global",))))
    return tuple(out)


def _episodes(rng: random.Random, benchmarks: tuple[SeedBenchmark, ...]) -> tuple[SeedEpisode, ...]:
    out = []
    serial = 0
    for index, bench in enumerate(benchmarks):
        if index % 4 == 3:
            continue
        for _ in range(1 + (index * 7) % 4):
            n = rng.randint(1, 12)
            rows = []
            for step in range(n):
                last = step == n - 1
                rows.append({"state": [round(rng.uniform(-1, 1), 3) for _ in range(4)], "action": rng.randrange(2),
                             "reward": round(rng.uniform(-1, 1.5), 3), "info": {"step": step} if step % 5 == 4 else {},
                             "terminal": last and serial % 3 == 0, "timeout": last and serial % 3 == 1})
            owner = bench.owner if bench.owner != "admin" or serial % 5 != 2 else "alice"
            if bench.owner == "admin" and owner == "alice" and "team-ml" in bench.publish:
                publish: tuple[str, ...] = ("team-ml",)
            else:
                publish = ("global",) if serial % 5 in (0, 1, 3) and "global" in bench.publish else ()
            meta = {"policy": _POLICIES[serial % 4], "seed": serial, "return": round(sum(r["reward"] for r in rows), 3)}
            out.append(SeedEpisode(owner=owner, benchmark=bench.name, metadata=meta, tuples=tuple(rows),
                                   publish=publish))
            serial += 1
    return tuple(out)


def _artifacts(rng: random.Random, benchmarks: tuple[SeedBenchmark, ...]) -> tuple[SeedArtifact, ...]:
    out = []
    for k in range(24):
        bench = benchmarks[(k * 5) % len(benchmarks)] if k % 3 != 1 else None
        owner = "alice" if k in (3, 10, 17, 22) else "bob" if k in (5, 19) else "admin"
        stem = bench.name if bench else f"shared-{k:02d}"
        kind = k % 4
        if kind == 0:
            rows = "\n".join(f"{e},{round(rng.uniform(-50, 500), 2)}" for e in range(1, 6))
            name, data, ctype = f"{stem}-returns.csv", f"episode,return\n{rows}\n".encode(), "text/csv"
        elif kind == 1:
            weights = [round(rng.uniform(-1, 1), 4) for _ in range(6)]
            name, ctype = f"{stem}-policy.json", "application/json"
            data = json.dumps({"artifact": k, "weights": weights}).encode()
        elif kind == 2:
            name, ctype = f"{stem}-notes.txt", "text/plain"
            data = f"Notes {k} on {stem}: seed {rng.randint(0, 9999)}.\n".encode()
        else:
            name, ctype = f"model-{k:02d}.bin", "application/octet-stream"
            data = bytes([k]) + rng.randbytes(63)
        publish: tuple[str, ...] = ("global",) if k % 3 != 2 else ()
        if owner == "alice" and bench is not None and "team-ml" in bench.publish:
            publish = ("team-ml",)
        if owner == "bob" and bench is not None and "robotics" in bench.publish:
            publish = ("robotics", *publish)
        out.append(SeedArtifact(owner=owner, name=name, description=f"Artifact {k} of {stem}." if k % 2 else "",
                                benchmark=bench.name if bench else None,
                                extra={"index": k, "kind": name.rsplit(".")[-1]}, data=data, content_type=ctype,
                                publish=publish))
    return tuple(out)


def build_plan(admin_password: str = DEFAULT_ADMIN_PASSWORD, seed: int = 7) -> SeedPlan:
    """The seed plan (deterministic for ``seed``)."""
    rng = random.Random(seed)
    benchmarks = _benchmarks()
    return SeedPlan(
        passwords={"admin": admin_password, "alice": "alice-pass-1", "bob": "bob-pass-1"},
        groups=(SeedGroup(name="team-ml", description="ML team", members=(("alice", ("contributor",)),)),
                SeedGroup(name="robotics", description="Robotics lab", members=(("bob", ("contributor",)),))),
        benchmarks=benchmarks, episodes=_episodes(rng, benchmarks), artifacts=_artifacts(rng, benchmarks),
    )


def _stamps(start: datetime) -> Callable[[], datetime]:
    state = {"now": start}

    def tick() -> datetime:
        state["now"] += timedelta(minutes=17, microseconds=4321)
        return state["now"]

    return tick


def seed_store(store: Store, plan: SeedPlan) -> None:
    """Fill ``store`` with ``plan`` exactly as replaying it through the API would (timestamps from 2025-03-03)."""
    clock, store.clock = store.clock, _stamps(SEED_START)
    try:
        for name, password in plan.passwords.items():
            store.add_user(name, password, [{"group": "global", "roles": ["admin"]}] if name == "admin" else ())
        for group in plan.groups:
            store.groups[group.name] = {"name": group.name, "description": group.description}
            store.users["admin"].memberships.append({"group": group.name, "roles": ["group_admin", "contributor"]})
            for user, roles in group.members:
                member = store.users[user]
                member.memberships = [m for m in member.memberships if m["group"] != group.name]
                member.memberships.append({"group": group.name, "roles": list(roles)})
        ids: dict[str, str] = {}
        for b in plan.benchmarks:
            doc = {"id": store.new_id(), "created_by": b.owner, "published_in": [b.owner], "created_at": store.now(),
                   "hash": b.hash, "metadata": dict(b.metadata), "serialized": b.serialized}
            store.benchmarks.append(doc)
            ids[b.name] = doc["id"]
        for b, doc in zip(plan.benchmarks, store.benchmarks, strict=True):
            doc["published_in"] += [g for g in b.publish if g not in doc["published_in"]]
        for e in plan.episodes:
            rows = [dict(t) for t in e.tuples]
            store.episodes.append({
                "id": store.new_id(), "created_by": e.owner, "published_in": [e.owner, *e.publish],
                "created_at": store.now(), "benchmark_id": ids[e.benchmark], "metadata": dict(e.metadata),
                "n_tuples": len(rows), "terminated": rows[-1]["terminal"], "timeout": rows[-1]["timeout"],
                "tuples": rows,
            })
        files = []
        for a in plan.artifacts:
            digest = hashlib.sha256(a.data + a.owner.encode()).hexdigest()
            meta = {"name": a.name, "description": a.description,
                    "benchmark_id": ids[a.benchmark] if a.benchmark else None, "extra": dict(a.extra),
                    "id": store.new_id(), "created_by": a.owner, "published_in": [a.owner], "created_at": store.now(),
                    "hash": digest, "encoding": "utf-8"}
            files.append(ArtifactFile(a.data, meta))
        store.artifacts.extend(files)
        for a, file in zip(plan.artifacts, files, strict=True):
            for group in a.publish:  # every publish re-stores the file: it moves to the end
                file.metadata["published_in"].append(group)
                store.artifacts.remove(file)
                store.artifacts.append(file)
    finally:
        store.clock = clock
