// permessage-deflate interop: Node's ws (npm, tests/interop/package-lock.json) with perMessageDeflate against a
// Switchboard server. ws offers client_max_window_bits and compresses messages of 1 KiB and more (its threshold).
// Sends messages of several sizes, expects each echoed (the echo server) and checks what was negotiated.
//     node deflate_client.mjs ws://127.0.0.1:PORT/
import assert from 'node:assert/strict';
import WebSocket from 'ws';

const url = process.argv[2];
const ws = new WebSocket(url, { perMessageDeflate: true });
let answer = '';
ws.on('upgrade', (response) => { answer = response.headers['sec-websocket-extensions'] ?? ''; });

const message = (size) => JSON.stringify({ type: 'message.sent', data: { content: 'hello '.repeat(size / 6) } })
    .padEnd(size, ' ').slice(0, size);
const next = () => new Promise((resolve) => ws.once('message', (data, binary) => resolve({ data, binary })));

ws.on('open', async () => {
    try {
        assert.equal(answer, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
        assert.ok(ws.extensions.includes('permessage-deflate'), ws.extensions);
        for (const size of [1, 100, 300, 1024, 5000, 200000]) {
            const sent = message(size);
            ws.send(sent);
            const { data, binary } = await next();
            assert.equal(binary, false);
            assert.equal(data.toString(), sent, `${size} bytes came back as ${data.length}`);
        }
        console.log(`node ws: ok (answer '${answer}')`);
        ws.close(1000);
    } catch (error) {
        console.error(error);
        process.exit(1);
    }
});
ws.on('error', (error) => { console.error(error); process.exit(1); });
