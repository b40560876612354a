// Starts GraphiQL against this server: queries over HTTP, subscriptions over
// graphql-transport-ws at /graphql/ws. The token typed into the Headers pane is kept by
// GraphiQL (shouldPersistHeaders) for this tab only (sessionStorage: it is gone when the tab
// closes, never left on a shared machine) and sent on both.
(function () {
  'use strict';
  var HEADERS_KEY = 'graphiql:headers';
  // What earlier versions kept in localStorage for ever goes.
  try {
    window.localStorage.removeItem(HEADERS_KEY);
  } catch (e) {
    // Storage refused (a private window): nothing was kept there either.
  }
  var endpoint = new URL('/graphql', window.location.href);
  var socket = new URL('/graphql/ws', window.location.href);
  socket.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

  function storedHeaders() {
    try {
      var text = window.sessionStorage.getItem(HEADERS_KEY);
      var parsed = text ? JSON.parse(text) : {};
      return typeof parsed === 'object' && parsed !== null ? parsed : {};
    } catch (e) {
      return {};
    }
  }

  var fetcher = GraphiQL.createFetcher({
    url: endpoint.href,
    subscriptionUrl: socket.href,
    // Read when the socket opens, so a token typed in after the page loaded is used.
    wsConnectionParams: function () {
      var headers = storedHeaders();
      var token = headers.Authorization || headers.authorization;
      return token ? { Authorization: token } : {};
    },
  });

  var defaultQuery = [
    '# 督查督办 GraphQL 接口',
    '#',
    '# 1. 在下方 Headers（请求头）填入令牌：',
    '#    {"Authorization": "Bearer dch_…"}',
    '# 2. 点左下角 ↻ 或刷新页面，载入接口文档',
    '# 3. 按 Ctrl+Enter 执行查询',
    '#',
    '# 令牌：ducha token --person-id N；',
    '# 演示：ducha serve --demo 会打印令牌',
    '',
    'query Me {',
    '  me { name role unit { name } }',
    '  itemCounts { stage count }',
    '}',
    '',
  ].join('\n');

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultHeaders: JSON.stringify({ Authorization: 'Bearer ' }, null, 2),
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: true,
      storage: window.sessionStorage,
      isHeadersEditorEnabled: true,
    })
  );
})();
