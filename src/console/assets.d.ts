// Text modules (wrangler.toml's Text rule): the console's static assets.
declare module "uplot/dist/uPlot.iife.min.js" {
  const source: string;
  export default source;
}
declare module "uplot/dist/uPlot.min.css" {
  const source: string;
  export default source;
}
declare module "*/console-client.js" {
  const source: string;
  export default source;
}
declare module "*/console.css" {
  const source: string;
  export default source;
}
