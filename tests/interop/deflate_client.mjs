// permessage-deflate interop: Node's ws (npm, tests/interop/package-lock.json) with perMessageDeflate against the
// social_server program. ws offers client_max_window_bits and compresses messages of 1 KiB and more (its
// threshold). Sends Pings of several sizes, expects each answered by its Pong (the manager echoes a Ping's data)
// and checks what was negotiated.
//     node deflate_client.mjs ws://127.0.0.1:PORT/ws?token=JWT
import assert from 'node:assert/strict';
import WebSocket from 'ws';

const url = process.argv[2];
const ws = new WebSocket(url, { perMessageDeflate: true });
let answer = '';
ws.on('upgrade', (response) => { answer = response.headers['sec-websocket-extensions'] ?? ''; });

const ping = (size) => ({ type: 'Ping', data: { content: 'hello '.repeat(Math.floor(size / 6)) } });
/// The next Pong; the server may send other events first (presence, the session).
const nextPong = () => new Promise((resolve) => {
    const onMessage = (data, binary) => {
        const event = JSON.parse(data.toString());
        if (event.type !== 'Pong') return;
        ws.off('message', onMessage);
        resolve({ event, binary });
    };
    ws.on('message', onMessage);
});

ws.on('open', async () => {
    try {
        assert.equal(answer, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
        assert.ok(ws.extensions.includes('permessage-deflate'), ws.extensions);
        for (const size of [30, 100, 300, 1024, 5000, 200000]) {
            const sent = ping(size);
            const pong = nextPong();
            ws.send(JSON.stringify(sent));
            const { event, binary } = await pong;
            assert.equal(binary, false);
            assert.deepEqual(event.data, sent.data, `a Ping of ${size} bytes was answered with another Pong`);
        }
        console.log(`node ws: ok (answer '${answer}')`);
        ws.close(1000);
    } catch (error) {
        console.error(error);
        process.exit(1);
    }
});
ws.on('error', (error) => { console.error(error); process.exit(1); });
