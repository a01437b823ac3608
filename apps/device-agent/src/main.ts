#!/usr/bin/env node
import 'reflect-metadata';
import { createBoxContext, runBoxProcess } from './box-process.js';

runBoxProcess(createBoxContext);
