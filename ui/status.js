// Entrance status: camera and blackbody reference state from /api/health, refreshed every 2 s.
const summary = document.getElementById('summary');
const cameras = document.getElementById('cameras');

function text(tag, content, className) {
  const element = document.createElement(tag);
  element.textContent = content;
  if (className) element.className = className;
  return element;
}

function row(list, term, value) {
  list.append(text('dt', term), text('dd', value));
}

function render(health) {
  // Anonymous callers get liveness only (status, version); the detail needs a signed-in user.
  if (!health.cameras) {
    summary.textContent = `version ${health.version} · ${health.status} · sign in to see the cameras`;
    cameras.replaceChildren();
    return;
  }
  summary.textContent = `${health.applianceId} · version ${health.version} · up ${Math.round(health.uptimeS)} s · ${health.status}`;
  cameras.replaceChildren(
    ...health.cameras.map((camera) => {
      const card = document.createElement('article');
      card.className = 'camera';
      card.dataset.cameraId = camera.id;
      card.append(text('h2', camera.name));
      const list = document.createElement('dl');
      const state = document.createElement('dd');
      state.append(text('span', camera.state, `state ${camera.state}`), ` ${camera.reason}`);
      list.append(text('dt', 'Camera'), state);
      const reference = camera.reference;
      const referenceState = document.createElement('dd');
      if (reference) {
        referenceState.append(
          text('span', reference.state, `state ${reference.state}`),
          ` ${reference.reason}`,
        );
      } else {
        referenceState.textContent = 'no frames yet';
      }
      list.append(text('dt', 'Blackbody'), referenceState);
      row(
        list,
        'Frames/s',
        `${camera.framesPerSecond.in} in · ${camera.framesPerSecond.processed} processed · ${camera.framesPerSecond.skipped} skipped`,
      );
      if (camera.screened) {
        const s = camera.screened;
        row(
          list,
          'Screened',
          `${s.normal} normal · ${s.elevated} elevated · ${s.retest} retest · ${s.invalid} no reading`,
        );
      }
      row(list, 'Profile', camera.profile);
      card.append(list);
      return card;
    }),
  );
}

async function refresh() {
  try {
    const response = await fetch('/api/health', { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
  } catch (error) {
    summary.textContent = `Appliance not reachable (${error.message}); retrying…`;
  }
}

refresh();
setInterval(refresh, 2000);
