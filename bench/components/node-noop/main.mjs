#!/usr/bin/env node
// bench-node-noop: the exit-code style in Node: a process that starts and exits 0, no callbacks.
// The like-with-like baseline of the Node five-callback styles (b, c): the same runtime's start-up
// and exit, so what they add over it is the contract alone.
