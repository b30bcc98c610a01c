'use strict';
// Promise.withResolvers arrived in Node 22; aws-local-stepfunctions 3 calls it
// in every Task state. Preloaded with `node -r` on older Node versions.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
