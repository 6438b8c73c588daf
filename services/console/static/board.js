// Refreshes the live board's rows every 2 s from /board/rows (server-rendered HTML).
(function () {
  var board = document.getElementById("board");
  if (!board) { return; }
  function refresh() {
    fetch(board.dataset.src, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null && !board.contains(document.activeElement)) { board.innerHTML = html; }
      })
      .catch(function () {})
      .finally(function () { setTimeout(refresh, 2000); });
  }
  setTimeout(refresh, 2000);
})();
