// Starts GraphiQL against this server: queries over HTTP, subscriptions over
// graphql-transport-ws at /graphql/ws. The token typed into the Headers pane is kept by
// GraphiQL (shouldPersistHeaders) and sent on both.
(function () {
  'use strict';
  var HEADERS_KEY = 'graphiql:headers';
  var endpoint = new URL('/graphql', window.location.href);
  var socket = new URL('/graphql/ws', window.location.href);
  socket.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

  function storedHeaders() {
    try {
      var text = window.localStorage.getItem(HEADERS_KEY);
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
    '# 先在下方 Headers（请求头）中填入令牌，例如：',
    '#   {"Authorization": "Bearer dch_…"}',
    '# 令牌由 `ducha token --person-id N` 签发；`ducha serve --demo` 启动时会打印演示账号的令牌。',
    '# 按 Ctrl+Enter 执行；左侧“文档”图标可查看全部类型和字段的说明。',
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
      isHeadersEditorEnabled: true,
    })
  );
})();
