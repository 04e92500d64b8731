"""A local stand-in for the OpenAI API at the LLM's network boundary (the
only fake the tests use): recorded answers, keyed by what is asked and at
which temperature, so concurrent sampling stays deterministic."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SPEC = {
    "name": "net_price",
    "description": "Price after a percentage discount, rounded to cents.",
    "parameters": [
        {"name": "price", "type": "number", "description": "List price."},
        {"name": "discount", "type": "number", "description": "Discount in percent, 0 to 100."},
    ],
    "returns": "number",
    "example_inputs": [{"price": 19.99, "discount": 15}],
}
RIGHT = 'def net_price(price, discount):\n    """Price after a discount."""\n    return round(price * (1 - discount / 100), 2)\n'
RIGHT_TOO = 'def net_price(price, discount):\n    """Price after a discount."""\n    return round(price - price * discount / 100, 2)\n'
WRONG = 'def net_price(price, discount):\n    """Price after a discount."""\n    return round(price - discount, 2)\n'
RIGHT_THREE = 'def net_price(price, discount):\n    """Price after a discount."""\n    return round(price * (100 - discount) / 100, 2)\n'
# A round of eight: four distinct programs (samples of one program count
# once), and at the other four temperatures the greedy answer again, as a
# consistent model gives.
CANDIDATES = {"0.0": RIGHT, "0.6": WRONG, "0.9": RIGHT_TOO, "1.1": RIGHT_THREE,
              "0.4": RIGHT, "0.8": RIGHT, "1.0": RIGHT, "0.7": RIGHT}
# For a request that mentions clamping: two programs that pass the examples
# and split on out-of-range discounts, so there are questions to settle.
CLAMPED = 'def net_price(price, discount):\n    """Price after a discount."""\n    d = max(0, min(100, discount))\n    return round(price * (1 - d / 100), 2)\n'
SPLIT = {"0.0": RIGHT, "0.6": CLAMPED, "0.9": RIGHT, "1.1": CLAMPED}
# For a request that says some may cap the discount: three programs that
# agree and the clamping one, all passing the examples: trust enough to
# publish, but different values on out-of-range discounts.
HELD = dict(CANDIDATES, **{"0.6": CLAMPED})


class FakeOpenAI:
    def __init__(self):
        self.requests = []
        # Seconds before each answer (a slow model); a test may change it.
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                if fake.delay:
                    time.sleep(fake.delay)
                prompt = body["messages"][-1]["content"]
                if prompt.startswith("Design a function"):
                    text = json.dumps(SPEC)
                else:
                    table = SPLIT if "clamp" in prompt else HELD if "cap it" in prompt else CANDIDATES
                    code = table.get(f"{body.get('temperature', 0):.1f}", WRONG)
                    text = f"```python\n{code}```"
                out = json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}],
                                  "usage": {"prompt_tokens": 120, "completion_tokens": 60}}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server asking was killed (a restart test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
