// Patroli review UI: keyboard shortcuts. Served as a file because the Content-Security-Policy
// forbids inline script. Pages work without it; this only adds speed.
//   queue:     j/k move, x select, o or Enter open, c/d pick confirm/dismiss for the selection
//   post page: c/d pick confirm/dismiss and focus the reason field; Enter submits
(function () {
  'use strict';

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable;
  }

  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.item'));
  var current = rows.length > 0 ? 0 : -1;

  function show() {
    rows.forEach(function (row, i) {
      row.classList.toggle('current', i === current);
    });
    if (current >= 0) rows[current].scrollIntoView({ block: 'nearest' });
  }

  function move(delta) {
    if (rows.length === 0) return;
    current = Math.max(0, Math.min(rows.length - 1, current + delta));
    show();
  }

  function checkbox(row) {
    return row ? row.querySelector('input[type=checkbox]') : null;
  }

  function decide(kind) {
    // Post page: one form, a verdict selector and a reason.
    var single = document.getElementById('verdict');
    if (single) {
      document.getElementById('verdict-kind').value = kind;
      single.classList.add('active');
      document.getElementById('verdict-reason').focus();
      return true;
    }
    // Queue: decide the selected rows, or the current one when nothing is selected.
    var bulk = document.getElementById('bulk');
    if (!bulk || current < 0) return false;
    var anyChecked = rows.some(function (r) {
      var c = checkbox(r);
      return c && c.checked;
    });
    if (!anyChecked) {
      var c = checkbox(rows[current]);
      if (c) c.checked = true;
    }
    document.getElementById('bulk-verdict').value = kind;
    bulk.classList.add('active');
    document.getElementById('bulk-reason').focus();
    return true;
  }

  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    var handled = true;
    switch (e.key) {
      case 'j': move(1); break;
      case 'k': move(-1); break;
      case 'x': {
        var c = checkbox(rows[current]);
        if (c) c.checked = !c.checked;
        break;
      }
      case 'o':
      case 'Enter': {
        var link = rows[current] ? rows[current].querySelector('a.open') : null;
        if (link) window.location.href = link.href; else handled = false;
        break;
      }
      case 'c': handled = decide('confirmed'); break;
      case 'd': handled = decide('dismissed'); break;
      default: handled = false;
    }
    // Stop the key from also being typed into the field we just focused.
    if (handled) e.preventDefault();
  });

  show();
})();

// Takedown countdowns (/takedown, /takedown/{id}): every `.countdown[data-due]` (RFC 3339) is
// ticked once a second. Past zero the element, its table row, if any, and a label switch to the
// overdue state, as the server renders it. Without script the server's text stays.
(function () {
  'use strict';

  var counters = Array.prototype.slice.call(document.querySelectorAll('.countdown[data-due]'));
  if (counters.length === 0) return;
  var english = (document.documentElement.lang || '').toLowerCase().indexOf('en') === 0;
  var units = english ? [' h ', ' min ', ' s'] : [' jam ', ' menit ', ' detik'];

  function text(ms) {
    var secs = Math.floor(Math.abs(ms) / 1000);
    var sign = ms < 0 ? '-' : '';
    return sign + Math.floor(secs / 3600) + units[0] + Math.floor((secs % 3600) / 60) + units[1] +
      (secs % 60) + units[2];
  }

  function markOverdue(el) {
    if (el.classList.contains('overdue')) return;
    el.classList.add('overdue');
    var row = el.closest('tr');
    if (row) row.classList.add('overdue');
    var holder = el.parentNode;
    if (holder && !holder.querySelector('strong.overdue')) {
      var label = document.createElement('strong');
      label.className = 'overdue';
      label.textContent = el.getAttribute('data-overdue-label') || (english ? 'OVERDUE' : 'TERLAMBAT');
      holder.insertBefore(document.createTextNode(' '), el.nextSibling);
      holder.insertBefore(label, el.nextSibling.nextSibling);
    }
  }

  function tick() {
    var now = Date.now();
    counters.forEach(function (el) {
      var due = Date.parse(el.getAttribute('data-due'));
      if (isNaN(due)) return;
      var left = due - now;
      el.textContent = text(left);
      if (left < 0) markOverdue(el);
    });
  }

  tick();
  window.setInterval(tick, 1000);
})();
