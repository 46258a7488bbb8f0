// The demo chat: one conversation between two users on a social_server started with the public
// development secret (its POST /api/dev/token hands out tokens). Plain DOM, no framework.
//
// A user is named in the page and identified on the server by a UUID made from that name, so two
// tabs that type the same names meet. The sending connection never receives its own MessageSent
// live, so each message carries a `client_id` the page makes; receipts (MarkRead / MessageRead)
// name that id, which both sides know.
import { SwitchboardClient } from '/switchboard-client.js';

const $ = (id) => document.getElementById(id);
const names = new Map(); // user id -> name: this page's user and peer (others show as a short id)
const online = new Set();
const shown = new Map(); // client_id -> <li>
let client = null;
let me = null;
let peer = null;
let conversationId = '';

/** A UUID (RFC 9562 version 8, "custom") from the first 16 bytes of SHA-256(name). */
async function userIdOf(name) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(name.trim().toLowerCase()));
    const bytes = new Uint8Array(digest).slice(0, 16);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function fetchJson(path, options) {
    const response = await fetch(path, options);
    const body = await response.json();
    if (!response.ok) throw new Error(`${path}: ${response.status} ${body.reason ?? ''}`);
    return body;
}

function fetchToken() {
    return fetchJson('/api/dev/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ user_id: me.id }),
    }).then((body) => body.token);
}

// --- Presence ---------------------------------------------------------------------------------------

function renderOnline() {
    const list = $('online');
    list.replaceChildren(...[...online].sort().map((id) => {
        const item = document.createElement('li');
        item.dataset.userId = id;
        item.dataset.name = names.get(id) ?? '';
        item.textContent = (names.get(id) ?? id.slice(0, 8)) + (id === me.id ? ' (you)' : '');
        return item;
    }));
}

/** Who was online before this connection: the live UserOnline/UserOffline events tell the rest. */
async function loadPresence() {
    try {
        const body = await fetchJson('/api/dev/presence');
        for (const { user_id: id } of body.online) online.add(id);
        renderOnline();
    } catch (error) {
        console.warn('presence unavailable', error);
    }
}

// --- Messages ---------------------------------------------------------------------------------------

function showMessage({ client_id: key, text, from, message_id: messageId }) {
    if (shown.has(key)) return shown.get(key);
    const item = document.createElement('li');
    item.dataset.key = key;
    if (messageId) item.dataset.messageId = messageId;
    item.dataset.from = from === me.id ? 'me' : 'peer';
    const body = document.createElement('span');
    body.className = 'text';
    body.textContent = text;
    item.append(body);
    if (from === me.id) {
        const receipt = document.createElement('span');
        receipt.className = 'receipt';
        receipt.dataset.read = 'false';
        receipt.textContent = 'sent';
        item.append(receipt);
    }
    shown.set(key, item);
    $('messages').append(item);
    item.scrollIntoView({ block: 'nearest' });
    return item;
}

function onMessage(message) {
    if (message.conversation_id !== conversationId || typeof message.client_id !== 'string') return;
    const isNew = !shown.has(message.client_id);
    showMessage(message);
    if (isNew && message.from === peer.id) {
        client.send('MarkRead', { message_id: message.client_id, to: peer.id });
        setTyping(false);
    }
}

function onRead({ message_id: key, reader }) {
    const receipt = shown.get(key)?.querySelector('.receipt');
    if (!receipt || reader !== peer.id) return;
    receipt.dataset.read = 'true';
    receipt.textContent = 'read';
}

function sendMessage(text) {
    const message = { to: [peer.id], conversation_id: conversationId, client_id: crypto.randomUUID(), text };
    if (!client.send('SendMessage', message)) return false;
    showMessage({ ...message, from: me.id });
    return true;
}

// --- Typing -----------------------------------------------------------------------------------------

let typingSentAt = 0;
let stopTimer = 0;
let peerTypingTimer = 0;

function onInput() {
    const now = Date.now();
    if (now - typingSentAt > 2000 && client.send('TypingStarted', { conversation_id: conversationId, to: [peer.id] }))
        typingSentAt = now;
    clearTimeout(stopTimer);
    stopTimer = setTimeout(stopTyping, 1500);
}

function stopTyping() {
    clearTimeout(stopTimer);
    if (typingSentAt === 0) return;
    typingSentAt = 0;
    client.send('TypingStopped', { conversation_id: conversationId, to: [peer.id] });
}

/** The peer's indicator; it also fades after 6 s, in case their TypingStopped never comes. */
function setTyping(typing) {
    const line = $('typing');
    line.dataset.typing = String(typing);
    line.hidden = !typing;
    line.textContent = typing ? `${peer.name} is typing…` : '';
    clearTimeout(peerTypingTimer);
    if (typing) peerTypingTimer = setTimeout(() => setTyping(false), 6000);
}

function onTyping(typing) {
    return ({ conversation_id: conversation, user_id: user }) => {
        if (conversation === conversationId && user === peer.id) setTyping(typing);
    };
}

// --- Connection -------------------------------------------------------------------------------------

let retryTimer = 0;

function onState(state, detail) {
    const label = $('state');
    label.dataset.state = state;
    label.textContent = state;
    clearInterval(retryTimer);
    const retry = $('retry');
    retry.textContent = '';
    delete retry.dataset.nextRetryAt;
    if (state === 'reconnecting') {
        retry.dataset.nextRetryAt = String(detail.nextRetryAt);
        const tick = () => {
            const seconds = Math.max(0, (detail.nextRetryAt - Date.now()) / 1000);
            retry.textContent = ` (attempt ${detail.attempt + 1} in ${seconds.toFixed(1)} s)`;
        };
        tick();
        retryTimer = setInterval(tick, 200);
    }
    if (state === 'open') loadPresence();
}

function onSession({ recovery, replayed }) {
    const label = $('recovery');
    label.dataset.recovery = recovery;
    label.dataset.replayed = String(replayed);
    label.textContent = recovery === 'complete' ? `complete (${replayed} replayed)` : recovery;
}

function connect() {
    client = new SwitchboardClient('/ws', { token: fetchToken });
    client.on('state', onState);
    client.on('session', onSession);
    client.on('UserOnline', ({ user_id: id }) => { online.add(id); renderOnline(); });
    client.on('UserOffline', ({ user_id: id }) => { online.delete(id); renderOnline(); });
    client.on('MessageSent', onMessage);
    client.on('MessageRead', onRead);
    client.on('TypingStarted', onTyping(true));
    client.on('TypingStopped', onTyping(false));
    client.on('error', (error) => console.warn('switchboard:', error));
    client.connect();
}

async function join(event) {
    event.preventDefault();
    const myName = $('name').value.trim();
    const peerName = $('peer').value.trim();
    if (!myName || !peerName || myName.toLowerCase() === peerName.toLowerCase()) {
        $('login-error').hidden = false;
        $('login-error').textContent = 'Give two different names.';
        return;
    }
    me = { name: myName, id: await userIdOf(myName) };
    peer = { name: peerName, id: await userIdOf(peerName) };
    names.set(me.id, me.name).set(peer.id, peer.name);
    conversationId = [me.id, peer.id].sort().join(':');
    $('me').textContent = me.name;
    $('conversation-title').textContent = `Conversation with ${peer.name}`;
    $('login').hidden = true;
    $('status').hidden = false;
    $('chat').hidden = false;
    connect();
    $('text').focus();
}

$('login').addEventListener('submit', join);
$('text').addEventListener('input', onInput);
$('compose').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('text').value.trim();
    if (!text || !sendMessage(text)) return;
    stopTyping();
    $('text').value = '';
});
