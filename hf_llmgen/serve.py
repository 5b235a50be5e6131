"""`python -m hf_llmgen.serve`: the embedded engine as an OpenAI-compatible HTTP server (llama.cpp's native
server: /v1/chat/completions, /v1/completions, /tokenize, parallel slots), for the openai backend or any client.

The API key is read from the environment variable named by --api-key-env, never from the command line, where
other users of the machine could read it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from .backends import BackendUnavailable
from .backends.engine import DEFAULT_SLOTS, gguf_path, start_engine


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m hf_llmgen.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="GGUF file (default: the packaged SmolLM2-135M-Instruct)")
    parser.add_argument("--alias", default="smollm2", help="the model name the server answers to (default smollm2)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free port)")
    parser.add_argument("--slots", type=int, default=DEFAULT_SLOTS,
                        help=f"requests decoded at once (default {DEFAULT_SLOTS})")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (default: all cores)")
    parser.add_argument("--api-key-env", help="environment variable holding the API key clients must send "
                        "(default: no key)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            print(f"--api-key-env: the environment variable {args.api_key_env} is not set; set it to the key "
                  "clients must send, or leave the option out for a server without a key.", file=sys.stderr)
            return 2
    try:
        server = start_engine(gguf_path(args.model), args.slots, args.threads, api_key, host=args.host,
                              port=args.port, alias=args.alias)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    except BackendUnavailable as err:
        print(err, file=sys.stderr)
        return 1
    print(f"Serving {args.alias} at {server.listening_address}/v1 with {args.slots} slots; Ctrl-C stops.",
          flush=True)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also where started as `cmd &`, SIGINT ignored
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
