// preact + htm, as published (served from the package's node_modules: no build step).
import { h, render, Fragment } from './vendor/preact.js';
import htm from './vendor/htm.js';

export const html = htm.bind(h);
export { render, Fragment };
export { useState, useEffect, useRef, useMemo, useCallback } from './vendor/hooks.js';
