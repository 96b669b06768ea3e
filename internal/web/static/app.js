// Herald console: progressive enhancement. Every page works without this
// file; with it, confirmations open a dialog, form rows are added and removed
// in place, auth fields follow the chosen type, and Cancel warns before
// unsaved input is lost. No inline code: the Content-Security-Policy forbids it.
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  var dialog = document.getElementById('confirm-dialog');
  var okButton = dialog && dialog.querySelector('#confirm-dialog-ok');
  var cancelButton = dialog && dialog.querySelector('#confirm-dialog-cancel');
  var okDefault = okButton ? okButton.textContent : 'OK';

  // ask shows the confirmation dialog and resolves to true on confirm.
  function ask(text, button, safe) {
    return new Promise(function (resolve) {
      if (!dialog || typeof dialog.showModal !== 'function') {
        resolve(window.confirm(text));
        return;
      }
      dialog.querySelector('#confirm-dialog-text').textContent = text;
      okButton.textContent = button || okDefault;
      okButton.className = safe ? 'primary' : 'danger';
      dialog.returnValue = '';
      dialog.addEventListener('close', function () {
        resolve(dialog.returnValue === 'ok');
      }, { once: true });
      dialog.showModal();
      (safe ? okButton : cancelButton).focus();
    });
  }

  // Forms with data-confirm ask first; the server asks again (a page) when
  // the post arrives without confirm=yes, so this is only a shortcut.
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) {
      return;
    }
    ev.preventDefault();
    ask(form.dataset.confirm, form.dataset.confirmButton, 'confirmSafe' in form.dataset).then(function (ok) {
      if (!ok) {
        return;
      }
      var input = form.querySelector('input[name="confirm"]');
      if (!input) {
        input = document.createElement('input');
        input.type = 'hidden';
        input.name = 'confirm';
        form.appendChild(input);
      }
      input.value = 'yes';
      HTMLFormElement.prototype.submit.call(form);
    });
  });

  function show(el, on) {
    el.hidden = !on;
  }

  // Verification type: show the fields the chosen type needs.
  function syncAuth() {
    var sel = document.querySelector('[data-auth-type]');
    if (!sel) {
      return;
    }
    document.querySelectorAll('[data-auth-for]').forEach(function (el) {
      show(el, el.dataset.authFor.split(' ').indexOf(sel.value) >= 0);
    });
  }

  // Format: the template fields only for format "template".
  function syncFormat() {
    var sel = document.querySelector('[data-format]');
    if (!sel) {
      return;
    }
    document.querySelectorAll('[data-format-for]').forEach(function (el) {
      show(el, el.dataset.formatFor === sel.value);
    });
  }

  // Chat robot URLs: suggest the platform's format from the URL's host (the
  // server makes the same suggestion when the page is rendered; see
  // format.SuggestFormat).
  function suggestFormat(raw) {
    var u;
    try {
      u = new URL(raw.trim());
    } catch (e) {
      return '';
    }
    var h = u.hostname.toLowerCase().replace(/\.$/, '');
    var under = function (d) {
      return h === d || h.slice(-(d.length + 1)) === '.' + d;
    };
    if (h === 'hooks.slack.com') {
      return 'slack';
    }
    if ((under('discord.com') || under('discordapp.com')) && u.pathname.indexOf('/api/webhooks/') === 0) {
      return 'discord';
    }
    if (under('webhook.office.com') || under('logic.azure.com') || under('powerplatform.com') || under('powerautomate.com')) {
      return 'teams';
    }
    return {
      'open.feishu.cn': 'feishu', 'open.larksuite.com': 'lark',
      'oapi.dingtalk.com': 'dingtalk', 'qyapi.weixin.qq.com': 'wecom'
    }[h] || '';
  }

  function syncSuggest() {
    var url = document.querySelector('input[name="url"]');
    var sel = document.querySelector('[data-format]');
    var hint = document.querySelector('[data-format-suggest]');
    if (!url || !sel || !hint) {
      return;
    }
    var f = suggestFormat(url.value);
    var opt = f && sel.querySelector('option[value="' + f + '"]');
    if (!opt || sel.value === f) {
      show(hint, false);
      return;
    }
    hint.textContent = hint.dataset.text.replace('%s', opt.textContent);
    show(hint, true);
  }

  document.addEventListener('input', function (ev) {
    if (ev.target.matches('input[name="url"]')) {
      syncSuggest();
    }
  });

  // Skip TLS verification: its warning shows while it is ticked.
  function syncTLS() {
    var box = document.querySelector('[data-skip-tls]');
    var warn = document.querySelector('[data-tls-warning]');
    if (box && warn) {
      show(warn, box.checked);
    }
  }

  // Exists and DoesNotExist take no values (seed 001).
  function syncOperator(sel, clear) {
    var row = sel.closest('[data-row]');
    var values = row && row.querySelector('[data-cond-values]');
    if (!values) {
      return;
    }
    var none = sel.value === 'Exists' || sel.value === 'DoesNotExist';
    if (none && clear === true) {
      values.querySelector('textarea').value = '';
    }
    show(values, !none);
  }

  document.addEventListener('change', function (ev) {
    var t = ev.target;
    if (t.matches('[data-auth-type]')) {
      syncAuth();
    } else if (t.matches('[data-format]')) {
      syncFormat();
      syncSuggest();
    } else if (t.matches('[data-skip-tls]')) {
      syncTLS();
    } else if (t.matches('[data-cond-op]')) {
      syncOperator(t, true);
    }
  });

  // Rows of conditions and headers: added from a <template>, removed in
  // place. Without JavaScript the same buttons post the form and the server
  // adds or removes the row.
  var rowSeq = 0;
  document.addEventListener('click', function (ev) {
    var add = ev.target.closest('[data-add-row]');
    if (add) {
      ev.preventDefault();
      var box = document.getElementById(add.dataset.addRow);
      var tpl = document.getElementById(box.dataset.rows);
      rowSeq++;
      box.insertAdjacentHTML('beforeend', tpl.innerHTML.split('__I__').join('n' + rowSeq));
      var row = box.lastElementChild;
      row.querySelectorAll('[data-cond-op]').forEach(function (sel) { syncOperator(sel); });
      var first = row.querySelector('input, select, textarea');
      if (first) {
        first.focus();
      }
      markDirty(add.form);
      return;
    }
    var remove = ev.target.closest('[data-remove-row]');
    if (remove) {
      ev.preventDefault();
      var form = remove.form;
      var r = remove.closest('[data-row]');
      var container = r.parentElement;
      r.remove();
      var next = container.parentElement.querySelector('[data-add-row="' + container.id + '"]');
      if (next) {
        next.focus();
      }
      markDirty(form);
    }
  });

  // Cancel warns when the form holds input that was not saved (seed 002).
  function markDirty(form) {
    if (form) {
      form.dataset.dirty = '1';
    }
  }
  document.querySelectorAll('form[data-dirty-warn]').forEach(function (form) {
    form.addEventListener('input', function () { markDirty(form); });
    form.addEventListener('change', function () { markDirty(form); });
    form.querySelectorAll('[data-cancel]').forEach(function (link) {
      link.addEventListener('click', function (ev) {
        if (form.dataset.dirty !== '1') {
          return;
        }
        ev.preventDefault();
        var text = document.getElementById('unsaved-warning').textContent;
        var leave = document.getElementById('leave-label').textContent;
        ask(text, leave, false).then(function (ok) {
          if (ok) {
            window.location.href = link.href;
          }
        });
      });
    });
  });

  // Values shown once (signing secret, new token): selected on focus for copying.
  document.addEventListener('focusin', function (ev) {
    if (ev.target.matches('[data-select-on-focus]')) {
      ev.target.select();
    }
  });

  // Times: the page writes UTC; show them in the browser's time zone, with
  // "3 min ago" for the last day, UTC staying on hover (title).
  function localTimes(root) {
    var lang = document.documentElement.lang || undefined;
    var abs, rel;
    try {
      abs = new Intl.DateTimeFormat(lang, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
      rel = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
    } catch (e) {
      return;
    }
    root.querySelectorAll('time[data-local]').forEach(function (el) {
      var t = new Date(el.getAttribute('datetime'));
      if (isNaN(t)) {
        return;
      }
      var text = abs.format(t);
      var secs = Math.round((t.getTime() - Date.now()) / 1000);
      var a = Math.abs(secs);
      if (a < 60) {
        text = rel.format(secs, 'second') + ' (' + text + ')';
      } else if (a < 3600) {
        text = rel.format(Math.round(secs / 60), 'minute') + ' (' + text + ')';
      } else if (a < 86400) {
        text = rel.format(Math.round(secs / 3600), 'hour') + ' (' + text + ')';
      }
      el.textContent = text;
    });
  }
  // Chart times (the overview's axis labels, bar tooltips and tables):
  // data-at holds the UTC time, data-at-fmt how much of it to write ("hm":
  // hour and minute; "mdhm": with month and day), data-at-suffix text that
  // follows it. Also inside SVG (<tspan>, <title>).
  function chartTimes(root) {
    var lang = document.documentElement.lang || undefined;
    var fmts = {};
    try {
      fmts.hm = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hour12: false });
      fmts.mdhm = new Intl.DateTimeFormat(lang, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
    } catch (e) {
      return;
    }
    root.querySelectorAll('[data-at]').forEach(function (el) {
      var t = new Date(el.getAttribute('data-at'));
      var f = fmts[el.getAttribute('data-at-fmt')] || fmts.hm;
      if (isNaN(t)) {
        return;
      }
      el.textContent = f.format(t) + (el.getAttribute('data-at-suffix') || '');
    });
  }
  localTimes(document);
  chartTimes(document);
  document.addEventListener('htmx:load', function (ev) { localTimes(ev.target); chartTimes(ev.target); });

  // Copy buttons (hidden without this script): copy the value of the
  // element data-copy names, and say so.
  document.querySelectorAll('button[data-copy]').forEach(function (b) {
    if (navigator.clipboard) {
      b.hidden = false;
    }
  });
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest && ev.target.closest('button[data-copy]');
    var src = b && document.querySelector(b.dataset.copy);
    if (!src) {
      return;
    }
    var label = b.dataset.label || b.textContent;
    b.dataset.label = label;
    navigator.clipboard.writeText(src.value || src.textContent).then(function () {
      b.textContent = b.dataset.copied || label;
      window.setTimeout(function () { b.textContent = label; }, 2000);
    });
  });

  // The webhook form's sticky action bar: the page's scroll padding
  // follows its height (it wraps to two rows on a phone), so focus never
  // scrolls a field under it.
  var actions = document.getElementById('form-actions');
  if (actions) {
    var setActionsHeight = function () {
      document.documentElement.style.setProperty('--actions-h', actions.offsetHeight + 'px');
    };
    setActionsHeight();
    if (window.ResizeObserver) {
      new ResizeObserver(setActionsHeight).observe(actions);
    }
  }

  syncAuth();
  syncFormat();
  syncTLS();
  document.querySelectorAll('[data-cond-op]').forEach(function (sel) { syncOperator(sel); });
  var summary = document.getElementById('error-summary');
  if (summary) {
    summary.focus();
  }
})();
