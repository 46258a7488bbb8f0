// The demo page (examples/social_server/web) in headless Chromium against a real social_server, as
// one story: two users chat (presence, typing, receipts); one of them loses the network while the
// other sends 20 messages, and gets each once on its return (recovery complete); the server
// crashes and comes back on its port, and both pages reconnect and report recovery unavailable.
// DEMO_SCREENSHOT=<file.png> also saves a picture of the conversation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
    Proxy, Server, freePort, launchBrowser, networkBack, openChat, send, texts, until, waitForCount,
} from './support.js';

const server = new Server(await freePort());
const proxy = new Proxy(server.port); // between alice's page and the server
let browser;
let alice;
let bob;

before(async () => {
    await server.start();
    await proxy.listen();
    browser = await launchBrowser();
});

after(async () => {
    await browser?.close();
    await proxy.close();
    await server.stop();
});

test('two users see each other online, typing, their messages and read receipts', async () => {
    alice = await openChat(browser, `http://127.0.0.1:${proxy.port}`, 'alice', 'bob');
    await alice.waitForSelector('#recovery[data-recovery="none"]');
    bob = await openChat(browser, `http://127.0.0.1:${server.port}`, 'bob', 'alice');
    await alice.waitForSelector('#online li[data-name="bob"]'); // UserOnline, live
    await bob.waitForSelector('#online li[data-name="alice"]'); // already online: the presence route

    await bob.locator('#text').pressSequentially('hel');
    await alice.waitForSelector('#typing[data-typing="true"]');
    assert.equal(await alice.textContent('#typing'), 'bob is typing…');
    await bob.fill('#text', 'hello alice');
    await bob.click('#send');
    await alice.waitForSelector('#typing[data-typing="false"]', { state: 'attached' });
    await waitForCount(alice, '#messages li[data-from="peer"]', 1);
    assert.deepEqual(await texts(alice, '#messages li[data-from="peer"]'), ['hello alice']);
    await bob.waitForSelector('#messages li[data-from="me"] .receipt[data-read="true"]'); // alice's MarkRead

    await send(alice, 'hi bob! the demo works');
    await waitForCount(bob, '#messages li[data-from="peer"]', 1);
    await alice.waitForSelector('#messages li[data-from="me"] .receipt[data-read="true"]');
    await send(bob, 'with read receipts and typing indicators');
    await waitForCount(alice, '#messages li[data-from="peer"]', 2);
    await bob.waitForSelector('#messages li:last-child .receipt[data-read="true"]');
    if (process.env.DEMO_SCREENSHOT) await bob.screenshot({ path: process.env.DEMO_SCREENSHOT });
});

test('a page cut off the network gets the 20 messages sent meanwhile, each once, when it is back', async () => {
    proxy.cut();
    await alice.waitForSelector('#state[data-state="reconnecting"]');
    assert.match(await alice.textContent('#retry'), /attempt \d+ in \d+\.\d s/);
    const sent = Array.from({ length: 20 }, (_, i) => `while you were away ${i + 1}`);
    for (const text of sent) await send(bob, text);
    await waitForCount(bob, '#messages li[data-from="me"]', 2 + sent.length);
    await until(() => proxy.refused > 0); // the page tried to come back, and could not

    proxy.restore();
    await networkBack(alice);
    await alice.waitForSelector('#recovery[data-recovery="complete"]');
    await waitForCount(alice, '#messages li[data-from="peer"]', 2 + sent.length);
    await bob.waitForFunction(() => [...document.querySelectorAll('.receipt')].every((r) => r.dataset.read === 'true'));
    await alice.waitForTimeout(300); // nothing more may come: a duplicate would arrive with the replay
    const received = await texts(alice, '#messages li[data-from="peer"]');
    assert.deepEqual(received.slice(2), sent);
    assert.equal(await alice.getAttribute('#recovery', 'data-replayed'), String(sent.length));
});

test('after the server crashes and restarts on its port both pages reconnect, recovery unavailable', async () => {
    await server.stop('SIGKILL');
    await Promise.all([alice, bob].map((page) => page.waitForSelector('#state[data-state="reconnecting"]')));
    await server.start();
    await Promise.all([alice, bob].map(networkBack));
    for (const page of [alice, bob]) {
        await page.waitForSelector('#recovery[data-recovery="unavailable"]');
        await page.waitForSelector('#state[data-state="open"]');
    }
    await send(alice, 'still here after the restart');
    await waitForCount(bob, '#messages li[data-from="peer"]', 2);
    assert.deepEqual(alice.errors, []);
    assert.deepEqual(bob.errors, []);
});
