// ducha's pages work without this script; it adds: a source kind's default rule filled in,
// a search box over long unit lists, files over the limit refused before sending, a second
// question before an action that cannot be undone, and:
// - the board reloads its part when the dashboardEvents subscription says something changed
//   (graphql-transport-ws on /graphql/ws, signed in by the session cookie), and each minute,
//   because colours change with time alone;
// - a select marked data-autosubmit sends its form when changed;
// - a form button is disabled while its form is being sent, so a double click acts once.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.hasAttribute && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.method && form.method.toLowerCase() === "post") {
      var buttons = form.querySelectorAll("button");
      window.setTimeout(function () {
        for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
      }, 0);
    }
  });

  // A source kind's default rule fills the deadline field while nobody has typed their own.
  var kinds = document.querySelector("select[data-default-rule]");
  if (kinds) {
    var deadline = document.getElementById(kinds.getAttribute("data-default-rule"));
    var ruleOf = function () {
      var option = kinds.options[kinds.selectedIndex];
      return option ? option.getAttribute("data-rule") || "" : "";
    };
    var shown = ruleOf();
    if (deadline && deadline.value === "") { deadline.value = shown; }
    if (deadline) {
      deadline.addEventListener("focus", function () {
        if (deadline.value === shown) { deadline.select(); }
      });
    }
    kinds.addEventListener("change", function () {
      if (deadline && (deadline.value === "" || deadline.value === shown)) { deadline.value = ruleOf(); }
      shown = ruleOf();
    });
  }

  // A search box narrows a long list of units by name.
  var filters = document.querySelectorAll("input[data-filter]");
  for (var f = 0; f < filters.length; f++) {
    filters[f].addEventListener("input", function (event) {
      var box = event.target;
      var wanted = box.value.trim();
      var list = document.querySelector("[data-filterable=" + box.getAttribute("data-filter") + "]");
      if (!list) { return; }
      var rows = list.querySelectorAll("[data-name]");
      for (var r = 0; r < rows.length; r++) {
        rows[r].hidden = wanted !== "" && rows[r].getAttribute("data-name").indexOf(wanted) < 0;
      }
      // The lead's list too, keeping the one chosen.
      var lead = document.querySelector("select[data-filtered-by=" + box.getAttribute("data-filter") + "]");
      if (lead) {
        for (var o = 0; o < lead.options.length; o++) {
          var option = lead.options[o];
          option.hidden = option.value !== "" && !option.selected && wanted !== "" && option.text.indexOf(wanted) < 0;
        }
      }
    });
  }

  // Files over the limit are refused before they are sent (the server refuses them too).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input || input.type !== "file" || !input.hasAttribute("data-max-bytes")) { return; }
    var max = Number(input.getAttribute("data-max-bytes"));
    var message = "";
    for (var i = 0; i < input.files.length; i++) {
      if (input.files[i].size > max) {
        message = "附件“" + input.files[i].name + "”超过" + Math.round(max / 1048576) + "MB，请压缩或拆分后上传";
      }
    }
    input.setCustomValidity(message);
    input.reportValidity();
  });

  // An action that cannot be taken back asks once more.
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("button[data-confirm]") : null;
    if (button && !window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
  });

  var live = document.querySelector("[data-live=board]");
  if (!live) { return; }
  var status = document.querySelector("[data-live-status]");
  var pending = null;

  function say(text, on) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("on", !!on);
  }

  function reload() {
    pending = null;
    var url = new URL(window.location.href);
    url.searchParams.set("part", "1");
    fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.redirected || !response.ok) { throw new Error("board " + response.status); }
        return response.text();
      })
      .then(function (html) {
        live.innerHTML = html;
        live.setAttribute("data-updated", String(Date.now()));
        paginate();
      })
      .catch(function () { say("刷新失败，稍后重试", false); });
  }

  // The wall screen shows every unit with no hand on the mouse: as many rows as fit, the next
  // ones every 10 seconds, and which page is showing.
  var wallPage = 0;
  function paginate() {
    if (!document.documentElement.classList.contains("wall")) { return; }
    var table = document.querySelector("table.units");
    if (!table || !table.tBodies[0]) { return; }
    var rows = table.tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) { rows[i].hidden = false; }
    if (rows.length === 0) { return; }
    var room = window.innerHeight - table.tBodies[0].getBoundingClientRect().top - 40;
    var per = Math.max(1, Math.floor(room / Math.max(1, rows[0].getBoundingClientRect().height)));
    var pages = Math.ceil(rows.length / per);
    if (wallPage >= pages) { wallPage = 0; }
    for (var j = 0; j < rows.length; j++) { rows[j].hidden = Math.floor(j / per) !== wallPage; }
    var label = document.querySelector("[data-wall-page]");
    if (label) { label.textContent = pages > 1 ? "第 " + (wallPage + 1) + " / " + pages + " 页，每10秒翻页" : ""; }
  }
  if (document.documentElement.classList.contains("wall")) {
    paginate();
    window.addEventListener("resize", paginate);
    // Fonts arriving change the rows' height: count again once everything has loaded.
    window.addEventListener("load", paginate);
    window.setInterval(function () { wallPage += 1; paginate(); }, 10000);
  }

  function soon() {
    if (pending === null) { pending = window.setTimeout(reload, 500); }
  }

  window.setInterval(reload, 60000);

  var attempts = 0;
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/graphql/ws", "graphql-transport-ws");
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "connection_init", payload: {} }));
    };
    socket.onmessage = function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      if (data.type === "connection_ack") {
        attempts = 0;
        say("实时更新中", true);
        socket.send(JSON.stringify({
          id: "board", type: "subscribe",
          payload: { query: "subscription { dashboardEvents { kind } }" }
        }));
      } else if (data.type === "next") {
        soon();
      } else if (data.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (data.type === "error" || data.type === "complete") {
        say("实时更新已停止，请刷新页面", false);
      }
    };
    socket.onclose = function (event) {
      if (event.code === 4403 || event.code === 4401) {
        say("登录已失效，请重新登录", false);
        return;
      }
      attempts += 1;
      say("实时更新已断开，正在重连…", false);
      window.setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, attempts)));
    };
  }
  connect();
})();

// 督办通知单 and 催办单: the page's own print button.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();

// The ledger and an import's preview: tick every item (every importable row) at once.
(function () {
  "use strict";
  [["select-all", "input[name=item][form=selection]"],
   ["select-all-rows", "input[name=line]:not([disabled])"]].forEach(function (pair) {
    var all = document.getElementById(pair[0]);
    if (!all) { return; }
    all.closest("label").hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll(pair[1]).forEach(function (box) { box.checked = all.checked; });
    });
  });
})();
