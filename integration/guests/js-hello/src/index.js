// Hello world with a service-worker style fetch-event handler: every path
// answers 200 `Hello from JavaScript` (text/plain).
addEventListener('fetch', (event) => {
  event.respondWith(
    new Response('Hello from JavaScript', {
      status: 200,
      headers: { 'content-type': 'text/plain' },
    }),
  );
});
