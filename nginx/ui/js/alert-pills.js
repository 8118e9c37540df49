// alert-pills.js: the Alerts tab's two pills (reference/ui.md §1): the unacknowledged critical
// (red) and warning (amber) counts of the state's activeAlerts. The shell calls alertPills()
// after drawing the tabs; every new state ('pulse-state', from state.js) redraws them.
import { currentState } from './state.js';

let counts = null;

function count(st) {
  const open = (st.activeAlerts || []).filter((a) => !a.acknowledged);
  const crit = open.filter((a) => a.level === 'critical').length;
  return { crit, warn: open.length - crit };
}

export function alertPills() {
  const tab = document.querySelector('#tabs a.tab[href="alerts"]');
  if (!tab) return;
  if (!counts && currentState()) counts = count(currentState());
  const c = counts || { crit: 0, warn: 0 };
  let box = tab.querySelector('.pills');
  if (!box) { box = document.createElement('span'); box.className = 'pills'; tab.append(box); }
  box.innerHTML = (c.crit ? `<span class="pill crit" title="${c.crit} unacknowledged critical">${c.crit}</span>` : '') +
    (c.warn ? `<span class="pill warn" title="${c.warn} unacknowledged warning">${c.warn}</span>` : '');
  tab.setAttribute('aria-label', `Alerts: ${c.crit} critical, ${c.warn} warning unacknowledged`);
}

document.addEventListener('pulse-state', (ev) => { counts = count(ev.detail); alertPills(); });
