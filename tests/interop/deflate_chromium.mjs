// permessage-deflate interop: Chromium (Debian's, driven by npm playwright-core; never a browser download)
// against a Switchboard server. Chromium offers "permessage-deflate; client_max_window_bits" and compresses
// every message. Sends Pings of several sizes from a page, expects each answered by its Pong (the manager
// echoes a Ping's data).
//     node deflate_chromium.mjs ws://127.0.0.1:PORT/ws?token=JWT
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const url = process.argv[2];
const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
    const page = await browser.newPage();
    const result = await page.evaluate(async (url) => {
        const ws = new WebSocket(url);
        await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('no connection')); });
        const mismatches = [];
        for (const size of [30, 100, 300, 5000, 200000]) {
            const data = { content: 'hello '.repeat(Math.floor(size / 6)) };
            const pong = new Promise((resolve) => {
                ws.onmessage = (message) => { // other events (presence, the session) may come first
                    const event = JSON.parse(message.data);
                    if (event.type === 'Pong') resolve(event.data);
                };
            });
            ws.send(JSON.stringify({ type: 'Ping', data }));
            if (JSON.stringify(await pong) !== JSON.stringify(data)) mismatches.push(size);
        }
        ws.close(1000);
        return { extensions: ws.extensions, mismatches };
    }, url);
    assert.equal(result.extensions, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    assert.deepEqual(result.mismatches, []);
    console.log(`chromium ${browser.version()}: ok (extensions '${result.extensions}')`);
} finally {
    await browser.close();
}
