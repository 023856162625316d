// Minimal market page: lists open offers and lets a demo user list one.
// Units on the wire are integers (Wh, paise per kWh); the page shows kWh and rupees.
'use strict';

const esc = s => String(s).replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
const fmtKwh = wh => (wh / 1000).toLocaleString('en-IN', { maximumFractionDigits: 3 }) + ' kWh';
const fmtPrice = p => '₹' + (p / 100).toFixed(2) + '/kWh';
const fmtSlot = (s, e) => s.replace('T', ' ').slice(0, 16) + ' – ' + e.slice(11, 16);

async function loadOffers() {
  const status = document.getElementById('offers-status');
  try {
    const res = await fetch('/api/offers?limit=500');
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ? body.error.message : res.statusText);
    const rows = body.offers.map(o => `<tr><td>${esc(fmtSlot(o.delivery_start, o.delivery_end))}</td>
      <td>${esc(o.source_type)}</td><td>${esc(o.seller_id)}</td><td>${fmtKwh(o.remaining_wh)}</td>
      <td>${fmtPrice(o.price_per_kwh)}</td></tr>`);
    document.querySelector('#offers tbody').innerHTML = rows.join('');
    status.textContent = body.offers.length ? '' : 'No open offers yet.';
  } catch (err) {
    status.textContent = 'Could not load offers: ' + err.message + '. Is the platform running?';
  }
}

function defaultStart() {
  const d = new Date(Date.now() + 6 * 3600e3);
  d.setUTCMinutes(0, 0, 0);
  return d.toISOString().slice(0, 16);
}

async function sell(ev) {
  ev.preventDefault();
  const f = ev.target, status = document.getElementById('sell-status');
  const start = new Date(f.start.value + ':00Z');
  const end = new Date(start.getTime() + Number(f.hours.value) * 3600e3);
  const body = {
    source_type: f.source_type.value,
    quantity_wh: Math.round(Number(f.kwh.value) * 1000),
    price_per_kwh: Math.round(Number(f.price.value) * 100),
    delivery_start: start.toISOString().replace('.000', ''),
    delivery_end: end.toISOString().replace('.000', ''),
    meter_id: f.meter_id.value,
  };
  status.textContent = 'Submitting…';
  const res = await fetch('/seller/offers', {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Dev-User': f.user.value },
    body: JSON.stringify(body),
  });
  const out = await res.json();
  if (!res.ok) {
    status.textContent = `Not listed: ${out.error.message}` + (out.error.field ? ` (field ${out.error.field})` : '');
    return;
  }
  if (res.status === 201) {
    status.textContent = 'Listed.';
    loadOffers();
    return;
  }
  status.textContent = 'Accepted; waiting for the market to list it…';
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`/api/offers/${out.offer_id}`);
    if (r.ok) {
      const o = await r.json();
      status.textContent = o.status === 'LISTED' ? 'Listed.' : `Rejected: ${o.reason.message}`;
      loadOffers();
      return;
    }
    await new Promise(ok => setTimeout(ok, 250));
  }
  status.textContent = 'Still pending; refresh in a moment.';
}

document.querySelector('#sell [name=start]').value = defaultStart();
document.getElementById('sell').addEventListener('submit', sell);
loadOffers();
setInterval(loadOffers, 5000);
