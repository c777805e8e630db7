"""The Redis channel layer survives idle streams.

channels_redis waits for a message with a 5 s BZPOPMIN; redis-py 8 reads with a 5 s
socket timeout by default, so every idle consumer's receive raised "Timeout reading
from redis" and daphne closed its WebSocket (1011) every 5 s. The layer's hosts carry
a longer socket timeout (config.settings.base.channel_layer_config).
"""

import asyncio

import pytest
from channels.layers import get_channel_layer


def test_an_idle_receive_outlasts_the_layers_blocking_read() -> None:
    layer = get_channel_layer()

    async def idle_receive() -> str:
        channel = await layer.new_channel()
        try:
            # Longer than one 5 s BZPOPMIN: the layer must block again, not fail.
            await asyncio.wait_for(layer.receive(channel), timeout=7)
        except TimeoutError:
            return "still waiting"
        return "received"

    assert asyncio.run(idle_receive()) == "still waiting"


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/3"])
def test_the_layer_config_bounds_reads_above_the_blocking_wait(url: str) -> None:
    from config.settings.base import channel_layer_config

    (host,) = channel_layer_config(url)["default"]["CONFIG"]["hosts"]
    assert host["address"] == url
    assert 5 < host["socket_timeout"] <= 60
