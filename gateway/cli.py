"""The `gateway` command: serve, demo, emulate, schema."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette

from gateway.settings import SettingsError, load_settings

__all__ = ["app_from_env", "main"]

EXAMPLE_QUERY = """{
  runs(filter: {taskIds: ["openml:task:31"]}, first: 50,
       orderBy: {measure: "predictive_accuracy", direction: DESC}) {
    edges { node { id ... on OpenMLRun {
      flow { name }
      task { name ... on OpenMLTask { dataset { name } } }
      evaluation(measure: "predictive_accuracy") { value }
    } } }
  }
}"""


def app_from_env() -> Starlette:
    """uvicorn factory: the app for the settings in this process's environment (used by --workers)."""
    from gateway.app import create_app
    from gateway.observability import configure_logging

    settings = load_settings(os.environ)
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    # The schema, modules and app live as long as the process: freeze them out of the cyclic collector, so a
    # full collection walks only request garbage (measured: 58 ms pauses every few cold leaderboards -> 6 ms).
    gc.collect()
    gc.freeze()
    return app


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.config:
        os.environ["GATEWAY_CONFIG"] = str(Path(args.config).resolve())
    try:
        load_settings(os.environ)  # fail fast, with the variable's name, before forking workers
    except SettingsError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    uvicorn.run("gateway.cli:app_from_env", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, access_log=False, proxy_headers=False, log_config=None)
    return 0


async def _demo(port: int, host: str, latency_ms: float) -> None:
    import uvicorn

    from adapters.mlte import emulator as mlte
    from adapters.openml_v1 import emulator as openml
    from adapters.openml_v2 import emulator as openml_v2
    from adapters.pytupli import emulator as pytupli
    from adapters.pytupli.emulator_data import DEFAULT_ADMIN_PASSWORD
    from adapters.vantage6 import emulator as vantage6
    from gateway.app import create_app

    running = {
        "openml": await openml.start_emulator(openml.EmulatorConfig(latency_ms=latency_ms)),
        "openml-v2": await openml_v2.start_emulator(openml.EmulatorConfig(latency_ms=latency_ms)),
        "mlte": await mlte.start_emulator(mlte.EmulatorConfig(latency_ms=latency_ms)),
        "vantage6": await vantage6.start_emulator(vantage6.EmulatorConfig(latency_ms=latency_ms)),
        "pytupli": await pytupli.start_emulator(pytupli.EmulatorConfig(latency_ms=latency_ms)),
    }
    environ = dict(os.environ)
    environ.update({
        "GATEWAY_OPENML_URL": running["openml"].url, "GATEWAY_OPENML_V2_URL": running["openml-v2"].url,
        "GATEWAY_OPENML_V2_RESOURCES": environ.get("GATEWAY_OPENML_V2_RESOURCES", ""),
        "GATEWAY_MLTE_URL": running["mlte"].url, "GATEWAY_MLTE_USERNAME": "admin",
        "GATEWAY_MLTE_PASSWORD": mlte.EmulatorConfig().admin_password,
        "GATEWAY_VANTAGE6_URL": running["vantage6"].url, "GATEWAY_VANTAGE6_USERNAME": "root",
        "GATEWAY_VANTAGE6_PASSWORD": "root",
        "GATEWAY_PYTUPLI_URL": running["pytupli"].url, "GATEWAY_PYTUPLI_USERNAME": "admin",
        "GATEWAY_PYTUPLI_PASSWORD": DEFAULT_ADMIN_PASSWORD,
    })
    settings = load_settings(environ)
    app = create_app(settings)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    print(f"gateway: http://{host}:{port}/graphql", flush=True)
    for name, emulator in running.items():
        print(f"{name}: {emulator.url}", flush=True)
    print("Open the gateway URL in a browser for GraphiQL. Try:\n" + EXAMPLE_QUERY, flush=True)
    try:
        await server.serve()
    finally:
        for emulator in running.values():
            await emulator.close()


def _emulate(args: argparse.Namespace) -> int:
    if args.backend in ("openml", "openml-v2"):
        from adapters.openml_v1.emulator import EmulatorConfig
        from adapters.openml_v1.emulator import run_emulator as run_v1
        from adapters.openml_v2.emulator import run_emulator as run_v2

        run = run_v1 if args.backend == "openml" else run_v2
        run(EmulatorConfig(latency_ms=args.latency_ms, seed=args.seed), args.host, args.port)
    elif args.backend == "mlte":
        from adapters.mlte import emulator as mlte

        mlte.run_emulator(mlte.EmulatorConfig(latency_ms=args.latency_ms), args.host, args.port)
    elif args.backend == "vantage6":
        from adapters.vantage6 import emulator as vantage6

        vantage6.run_emulator(vantage6.EmulatorConfig(latency_ms=args.latency_ms, seed=args.seed), args.host, args.port)
    else:
        from adapters.pytupli import emulator as pytupli

        pytupli.run_emulator(pytupli.EmulatorConfig(latency_ms=args.latency_ms, seed=args.seed), args.host, args.port)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="gateway", description="GraphQL gateway over ML metadata services.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway (backends from GATEWAY_* settings)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--config", help="TOML settings file (env vars win)")
    serve.add_argument("--log-level", default="info")

    demo = sub.add_parser("demo", help="emulators of every backend on free ports, and the gateway in front")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--latency-ms", type=float, default=0.0)

    emulate = sub.add_parser("emulate", help="run one backend emulator alone")
    emulate.add_argument("backend", choices=["openml", "openml-v2", "mlte", "vantage6", "pytupli"])
    emulate.add_argument("--host", default="127.0.0.1")
    emulate.add_argument("--port", type=int, default=0)
    emulate.add_argument("--latency-ms", type=float, default=0.0)
    emulate.add_argument("--seed", type=int, default=42)

    sub.add_parser("schema", help="print the SDL")
    sub.add_parser("settings", help="print every setting (env var, default, meaning) as a Markdown table")

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "demo":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_demo(args.port, args.host, args.latency_ms))
        return 0
    if args.command == "emulate":
        return _emulate(args)
    if args.command == "settings":
        from gateway.settings import settings_markdown

        sys.stdout.write(settings_markdown())
        return 0
    from schema import schema_sdl

    sys.stdout.write(schema_sdl())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
