// Packages the differential tests use that ship no type declarations (and have no @types
// package installed here). The tests treat them as `any`.
declare module 'compression';
declare module 'cookie-parser';
declare module 'express-session';
declare module 'express4';
declare module 'koa-static';
declare module 'koa2';
declare module 'morgan';
declare module 'multer';
declare module 'on-finished';
