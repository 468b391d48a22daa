// express4 and express5 are npm aliases of express; their types are @types/express's.
declare module 'express4' {
  import express from 'express';
  export default express;
}
declare module 'express5' {
  import express from 'express';
  export default express;
}
