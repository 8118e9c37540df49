// alerts-schedule.js: Alerts → Schedule (reference/ui.md §5, alerts-notifications.md §2.6):
// the configuration's `schedule`: quiet hours (times, time zone, days, what they suppress),
// cooldown and the hourly cap, grouping, recovery notifications, escalation levels (add,
// remove). Saved with the whole configuration (PUT /api/alerts/config); the API's message
// shows when it refuses it.
import { esc } from './format.js';
import { configPage, field } from './alerts-common.js';

const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const NOTIFY = [['email', 'Email'], ['webhook', 'Webhooks'], ['all', 'All channels']];
const S = 'schedule';

function zones() {
  try { return Intl.supportedValuesOf('timeZone'); } catch { return []; }
}

function levels(cfg) {
  const list = (cfg.schedule && cfg.schedule.escalation && cfg.schedule.escalation.levels) || [];
  return `<ol class="levels" id="escalation-levels">${list.map((_, i) => `<li>
      ${field({ path: `${S}.escalation.levels.${i}.after`, label: `Level ${i + 1}: after`, unit: 'min', step: 1, min: 1 })}
      ${field({ path: `${S}.escalation.levels.${i}.notify`, label: 'notify', kind: 'select', options: NOTIFY })}
      <button type="button" class="secondary" data-remove="${i}" aria-label="Remove level ${i + 1}">Remove</button></li>`).join('')}
    </ol><button type="button" class="secondary" id="level-add">Add level</button>`;
}

function body(cfg) {
  return `<div class="kinds">
    <section class="card" id="quiet-hours"><h2>Quiet hours</h2>
      <p class="muted">No notifications in this window, except critical alerts of the kinds not ticked below.</p>
      ${field({ path: `${S}.quietHours.enabled`, label: 'Quiet hours on', kind: 'bool' })}
      <div class="extra">
        ${field({ path: `${S}.quietHours.start`, label: 'From', kind: 'time' })}
        ${field({ path: `${S}.quietHours.end`, label: 'To', kind: 'time' })}
        ${field({ path: `${S}.quietHours.timezone`, label: 'Time zone', kind: 'text', list: 'tz-list' })}
      </div>
      <datalist id="tz-list">${zones().map((z) => `<option value="${esc(z)}">`).join('')}</datalist>
      <fieldset><legend>Days</legend><div class="switches">${DAYS.map((d) =>
        field({ path: `${S}.quietHours.days.${d}`, label: d[0].toUpperCase() + d.slice(1, 3), kind: 'bool' })).join('')}</div></fieldset>
      <fieldset><legend>Suppress also critical</legend><div class="switches">
        ${field({ path: `${S}.quietHours.suppress.performance`, label: 'Performance', kind: 'bool' })}
        ${field({ path: `${S}.quietHours.suppress.storage`, label: 'Storage', kind: 'bool' })}
        ${field({ path: `${S}.quietHours.suppress.offline`, label: 'Offline and power state', kind: 'bool' })}</div></fieldset>
    </section>
    <section class="card" id="cooldown"><h2>Cooldown</h2>
      <div class="extra">
        ${field({ path: `${S}.cooldown`, label: 'Notify again after', unit: 'min', step: 1, min: 0 })}
        ${field({ path: `${S}.maxAlertsHour`, label: 'At most per alert and hour', unit: '(0: no limit)', step: 1, min: 0 })}
      </div>
      ${field({ path: `${S}.notifyOnResolve`, label: 'Send recovery notifications', kind: 'bool' })}
    </section>
    <section class="card" id="grouping"><h2>Grouping</h2>
      ${field({ path: `${S}.grouping.enabled`, label: 'Group notifications', kind: 'bool' })}
      <div class="extra">${field({ path: `${S}.grouping.window`, label: 'Window', unit: 's (0: send at once)', step: 1, min: 0 })}</div>
      <div class="switches">${field({ path: `${S}.grouping.byNode`, label: 'By node', kind: 'bool' })}
        ${field({ path: `${S}.grouping.byGuest`, label: 'By guest', kind: 'bool' })}</div>
    </section>
    <section class="card" id="escalation"><h2>Escalation</h2>
      ${field({ path: `${S}.escalation.enabled`, label: 'Escalate unacknowledged alerts', kind: 'bool' })}
      ${levels(cfg)}
    </section></div>`;
}

export function mount(root) {
  const page = configPage(root, 'schedule', {
    body,
    after: (cfg, form, change) => {
      form.querySelector('#escalation').addEventListener('click', (ev) => {
        const btn = ev.target.closest('button');
        if (!btn) return;
        if (btn.id === 'level-add') {
          change((c) => {
            const esc2 = c.schedule.escalation = c.schedule.escalation || { enabled: false, levels: [] };
            esc2.levels = esc2.levels || [];
            const last = esc2.levels[esc2.levels.length - 1];
            esc2.levels.push({ after: last ? last.after * 2 : 15, notify: 'all' });
          });
        } else if (btn.dataset.remove !== undefined) {
          change((c) => { c.schedule.escalation.levels.splice(Number(btn.dataset.remove), 1); });
        }
      });
    },
  });
  return () => page.stop();
}
