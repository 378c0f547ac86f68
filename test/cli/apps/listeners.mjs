export const api = (req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(`listener ${req.url}`);
};
export const odd = function (x, y) {
  y('200 OK', []);
  return [`forced ${typeof x}`];
};
