// The outer frame of the MCP Apps sandbox (served by mcpd's sandbox port, src/fronts/ui/sandbox.ts,
// on another origin than the dashboard). It writes the App into an inner frame of this origin,
// whose Content-Security-Policy is this page's (the App's declared one, checked by mcpd), and
// relays messages: dashboard ⇄ this frame ⇄ App. The page that framed it is named by `parent`
// (the sandbox port lets only the dashboard frame it, by frame-ancestors).

const PROXY_READY = 'ui/notifications/sandbox-proxy-ready';
const RESOURCE_READY = 'ui/notifications/sandbox-resource-ready';
const host = new URLSearchParams(location.search).get('parent');

if (window.self === window.top || !host) throw new Error('The App sandbox runs inside the mcpd dashboard only.');

const inner = document.createElement('iframe');
inner.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms');
inner.style.cssText = 'width:100%;height:100%;border:0;display:block';
inner.title = 'App';
document.body.appendChild(inner);

window.addEventListener('message', (event) => {
  if (event.source === window.parent) {
    if (event.origin !== host) return;
    const message = event.data;
    if (message && message.method === RESOURCE_READY) {
      const { html, sandbox, permissions } = message.params ?? {};
      if (typeof sandbox === 'string') inner.setAttribute('sandbox', sandbox);
      const allow = ['camera', 'microphone', 'geolocation'].filter((p) => permissions?.[p]);
      if (permissions?.clipboardWrite) allow.push('clipboard-write');
      if (allow.length > 0) inner.setAttribute('allow', allow.join('; '));
      if (typeof html !== 'string') return;
      // Written rather than srcdoc: the inner document keeps this origin (WebGL, storage), and
      // inherits this page's policy.
      const doc = inner.contentDocument;
      if (doc) {
        doc.open();
        doc.write(html);
        doc.close();
      } else inner.srcdoc = html;
      return;
    }
    // Only to the App written here (this origin): never to a page it may have navigated to.
    inner.contentWindow?.postMessage(message, location.origin);
  } else if (event.source === inner.contentWindow) {
    if (event.origin !== location.origin) return;
    window.parent.postMessage(event.data, host);
  }
});

window.parent.postMessage({ jsonrpc: '2.0', method: PROXY_READY, params: {} }, host);
