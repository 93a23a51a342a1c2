#!/usr/bin/env node
// keyward's only entry point: runs the built commands in dist/.
import {execute} from '@oclif/core';

await execute({dir: import.meta.url});
