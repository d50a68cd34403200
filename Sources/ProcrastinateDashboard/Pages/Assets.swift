/// The dashboard's style sheet and script, served from the binary: the pages work offline and
/// load nothing from elsewhere (the Content-Security-Policy allows only the dashboard itself).
enum Assets {
    static let styleSheet = """
        :root { --fg: #1d2433; --muted: #6b7385; --line: #dde1e8; --bg: #f6f7f9; --card: #fff; --accent: #3d5afe;
                --ok: #1b8a4b; --bad: #c62828; --warn: #b26a00; --run: #1565c0; font: 14px/1.45 system-ui, sans-serif; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--fg); background: var(--bg); }
        header { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 16px; padding: 10px 20px; background: #151a2d; color: #fff; }
        header .brand { font-weight: 700; margin-right: 12px; color: #fff; text-decoration: none; }
        header nav { display: flex; flex-wrap: wrap; gap: 2px; flex: 1; }
        header nav a { color: #c9cfe3; text-decoration: none; padding: 4px 10px; border-radius: 6px; }
        header nav a.current, header nav a:hover { background: #2b3353; color: #fff; }
        header button { background: #2b3353; color: #fff; border: 1px solid #46507a; }
        main { padding: 18px 20px 40px; max-width: 1400px; }
        h1 { font-size: 20px; margin: 4px 0 14px; }
        h2 { font-size: 15px; margin: 22px 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
        h2 code { text-transform: none; letter-spacing: 0; }
        td.actions { white-space: nowrap; }
        a { color: var(--accent); }
        table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
        th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #eef0f5; font-weight: 600; white-space: nowrap; }
        td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
        tr:last-child td { border-bottom: none; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
        .card .value { font-size: 22px; font-weight: 650; }
        .card .label { color: var(--muted); }
        .muted { color: var(--muted); }
        .estimate { color: var(--muted); }
        .status { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #e8eaf0; }
        .status-todo { background: #fff3d6; color: var(--warn); }
        .status-doing { background: #dbe9fb; color: var(--run); }
        .status-succeeded { background: #dcf3e5; color: var(--ok); }
        .status-failed, .status-aborted { background: #fbe0e0; color: var(--bad); }
        .status-cancelled { background: #ececec; color: #555; }
        .stalled { color: var(--bad); font-weight: 600; }
        form.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin-bottom: 14px; }
        form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
        input, select, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--fg); }
        button { cursor: pointer; }
        button.danger { color: var(--bad); border-color: #f0b8b8; }
        form.action { display: inline; margin-right: 4px; }
        pre { background: #0f1424; color: #e6e9f2; padding: 12px; border-radius: 8px; overflow: auto; max-height: 420px; }
        .pager { display: flex; gap: 12px; margin: 12px 0; align-items: center; }
        .flash { margin: 10px 20px 0; padding: 8px 12px; border-radius: 6px; }
        .flash.ok { background: #dcf3e5; } .flash.error { background: #fbe0e0; }
        .flash:empty { display: none; }
        .timeline { list-style: none; padding: 0; margin: 0; border-left: 2px solid var(--line); }
        .timeline li { padding: 4px 0 4px 14px; position: relative; }
        .timeline li::before { content: ""; position: absolute; left: -6px; top: 11px; width: 10px; height: 10px; border-radius: 50%; background: var(--accent); }
        .timeline .gap { color: var(--muted); font-size: 12px; margin-left: 8px; }
        .timeline .scheduled { font-size: 12px; margin-left: 8px; }
        .errors { padding-left: 20px; }
        .errors pre { margin: 4px 0 10px; white-space: pre-wrap; }
        svg.chart { background: var(--card); border: 1px solid var(--line); border-radius: 8px; width: 100%; height: auto; }
        svg.chart .succeeded { fill: #43a96b; } svg.chart .failed { fill: #d9534f; }
        svg.chart text { font-size: 10px; fill: var(--muted); }
        svg.chart line { stroke: var(--line); }
        .legend span { margin-right: 14px; } .legend .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
        .swatch.succeeded { background: #43a96b; } .swatch.failed { background: #d9534f; }
        .error-box { background: #fbe0e0; border: 1px solid #f0b8b8; padding: 12px; border-radius: 8px; }
        html[data-live="paused"] #live { background: #7a4b00; }
        dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
        dl.fields dt { color: var(--muted); } dl.fields dd { margin: 0; word-break: break-all; }
        """

    /// Refreshes `#content` in place (every few seconds, and soon after a notification on
    /// `events`), unless paused or the user is typing in it; sends action forms with fetch and
    /// refreshes after them, so that a status change shows without a reload.
    static let script = """
        (() => {
          const root = document.documentElement;
          const main = document.getElementById('content');
          const toggle = document.getElementById('live');
          const flashBox = document.getElementById('flash');
          const base = root.dataset.base;
          const every = Number(root.dataset.refresh) * 1000;
          let paused = localStorage.getItem('procrastinate.live') === 'paused';
          let busy = false, again = false;
          const show = () => {
            toggle.textContent = paused ? 'Resume live updates' : 'Pause live updates';
            toggle.setAttribute('aria-pressed', String(paused));
            root.dataset.live = paused ? 'paused' : 'on';
          };
          const typing = () => {
            const active = document.activeElement;
            return active && main.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
          };
          const refresh = async (force) => {
            if (busy) { again = again || force; return; }
            if (!force && (paused || document.hidden || typing())) return;
            busy = true;
            try {
              const response = await fetch(location.href, { headers: { 'X-Dashboard-Fragment': '1' }, cache: 'no-store' });
              if (response.ok) {
                main.innerHTML = await response.text();
                root.dataset.refreshes = String(Number(root.dataset.refreshes || 0) + 1);
              }
            } catch (error) {
              // The server is away: the next tick tries again.
            } finally {
              busy = false;
              if (again) { again = false; refresh(true); }
            }
          };
          const flash = (message, ok) => {
            flashBox.textContent = message;
            flashBox.className = ok ? 'flash ok' : 'flash error';
          };
          toggle.addEventListener('click', () => {
            paused = !paused;
            localStorage.setItem('procrastinate.live', paused ? 'paused' : 'on');
            show();
            if (!paused) refresh(false);
          });
          show();
          setInterval(() => refresh(false), every);
          if (window.EventSource) {
            const source = new EventSource(base + '/events');
            let timer = null;
            source.onmessage = (event) => {
              if (event.data === 'ready') root.dataset.stream = 'listening';
              clearTimeout(timer);
              timer = setTimeout(() => refresh(false), 250);
            };
            source.onerror = () => { root.dataset.stream = 'reconnecting'; };
          }
          document.addEventListener('submit', async (event) => {
            const form = event.target;
            if (!form.matches('form[data-action]')) return;
            if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
            if ('navigate' in form.dataset) return;
            event.preventDefault();
            try {
              const response = await fetch(form.action, {
                method: 'POST', body: new URLSearchParams(new FormData(form)), headers: { 'X-Dashboard-Fragment': '1' }
              });
              flash(await response.text(), response.ok);
            } catch (error) {
              flash('The dashboard did not answer: ' + error, false);
            }
            await refresh(true);
          });
        })();
        """
}
