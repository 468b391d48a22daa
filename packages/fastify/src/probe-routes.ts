/**
 * The probe routes on the app's own port, as Fastify routes, for users who cannot open a second
 * port. Off by default: the separate probe port is the better place (a saturated app or a hostile
 * client on the main port cannot make the kubelet restart a healthy pod).
 *
 * The answers are the probe port's: `lifecycle.answerProbe` reads the cached state and the handler
 * only copies status, headers and body onto the reply.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Lifecycle } from '@podkit/lifecycle';
import { answerRoute, PROBE_ROUTES } from '@podkit/lifecycle/adapter';

export function mountProbeRoutes(fastify: FastifyInstance, lifecycle: Lifecycle, prefix: string): void {
  const handler = (request: FastifyRequest, reply: FastifyReply) => {
    const answer = answerRoute(lifecycle, { method: request.method, url: request.url, accept: request.headers.accept }, prefix);
    // /metrics belongs to the probes only when the lifecycle serves metrics.
    if (!answer) {
      reply.callNotFound();
      return reply;
    }
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  };
  // Every method the app routes (OPTIONS, TRACE, PROPFIND… as well as GET and HEAD), so that the
  // other methods get the probe port's 405 with `Allow: GET, HEAD` rather than the app's 404.
  // `all()` takes the instance's methods as they are now. A method Fastify does not route at all
  // (PURGE; in Fastify 5 also PROPFIND unless `addHttpMethod` added it first) reaches no route, the
  // app's own included, and gets Fastify's 404.
  for (const path of PROBE_ROUTES) {
    fastify.all(`${prefix}${path}`, handler);
  }
}
