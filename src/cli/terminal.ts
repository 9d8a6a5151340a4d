/**
 * Text from servers (tool names, descriptions, results, stderr) and from configs, made safe to
 * print on a terminal: control characters and escape sequences would otherwise act on it
 * (`ESC[2J` cleared the screen in `mcpd tools`). They are shown as `\xNN` instead. mcpd's own
 * colours (SGR sequences, `ESC[…m`) stay. Only for a terminal: `--json` and pipes stay exact.
 */

/** Our colours: Select Graphic Rendition, and nothing else. */
const SGR = /\u001b\[[0-9;]*m/y;

function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x0a && code !== 0x09) || code === 0x7f || (code >= 0x80 && code <= 0x9f);
}

export function forTerminal(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 0x1b) {
      SGR.lastIndex = i;
      const colour = SGR.exec(text);
      if (colour) {
        out += colour[0];
        i += colour[0].length - 1;
        continue;
      }
    }
    out += isControl(code) ? `\\x${code.toString(16).padStart(2, '0')}` : text[i];
  }
  return out;
}

/** `text` for `stream`: made safe when it is a terminal, as it is otherwise. */
export function forStream(stream: { isTTY?: boolean }, text: string): string {
  return stream.isTTY ? forTerminal(text) : text;
}
