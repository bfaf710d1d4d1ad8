"""A Redis trigger handler with the Spin Python SDK 3.4.1: every message on the
subscribed channel is stored at `python-redis:last` through outbound Redis, using
the component variable `redis_address`."""

from spin_sdk import redis, variables
from spin_sdk.wit import exports


class InboundRedis(exports.InboundRedis):
    def handle_message(self, message: bytes) -> None:
        address = variables.get("redis_address")
        with redis.open(address) as connection:
            connection.set("python-redis:last", message)
        print(f"python-redis: handled {len(message)} bytes")
