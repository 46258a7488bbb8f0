// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// A fake clock for the client's tests: replaces the global setTimeout, clearTimeout and Date.now
// while installed, and runs the timers only when told to, in order of their due time.
// (node:test's mock.timers would do, but its API differs between Node 18 and 20.)

const RUNAWAY = 100000;

export class FakeClock {
    #now = 1_000_000;
    #timers = new Map(); // id -> {due, fn}
    #nextId = 1;
    #saved = null;

    install() {
        this.#saved = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout, now: Date.now };
        globalThis.setTimeout = (fn, delay = 0) => {
            const id = this.#nextId++;
            this.#timers.set(id, { due: this.#now + Math.max(0, delay), fn });
            return id;
        };
        globalThis.clearTimeout = (id) => this.#timers.delete(id);
        Date.now = () => this.#now;
        return this;
    }

    uninstall() {
        globalThis.setTimeout = this.#saved.setTimeout;
        globalThis.clearTimeout = this.#saved.clearTimeout;
        Date.now = this.#saved.now;
    }

    get now() {
        return this.#now;
    }

    /** How many timers are waiting. */
    get pending() {
        return this.#timers.size;
    }

    /** Moves time forward by `ms`, running every timer that falls due on the way (also those they start). */
    tick(ms) {
        const end = this.#now + ms;
        let ran = 0;
        for (let next = this.#nextDue(end); next; next = this.#nextDue(end)) {
            if (++ran > RUNAWAY) throw new Error(`more than ${RUNAWAY} timers ran in one tick: a timer loop`);
            const [id, timer] = next;
            this.#timers.delete(id);
            this.#now = timer.due;
            timer.fn();
        }
        this.#now = end;
    }

    #nextDue(end) {
        let earliest = null;
        for (const entry of this.#timers) {
            if (entry[1].due <= end && (earliest === null || entry[1].due < earliest[1].due)) earliest = entry;
        }
        return earliest;
    }
}
