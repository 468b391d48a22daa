/** Bare Express with no shutdown handling at all: SIGTERM's default action kills it mid-request. */
import { announce, createApp, env } from './_express.mjs';

const app = createApp();
// The health route a service without a library typically has: 200 whenever it answers at all.
app.get('/readyz', (req, res) => {
  res.send('ok');
});
const server = app.listen(env.port, env.host, () => announce(server.address().port));
