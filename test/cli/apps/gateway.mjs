export default (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [`gateway ${environ.PATH_INFO}`];
};
