// Talking to the server: JSON in, JSON out; every error becomes an ApiError with the server's message.

export class ApiError extends Error {
  constructor(message, { field = null, status = 0 } = {}) {
    super(message);
    this.field = field;
    this.status = status;
  }
}

async function answer(response) {
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (!response.ok) {
    let message = body && body.error ? body.error : `the server answered ${response.status} ${response.statusText}`;
    const retry = response.headers.get("Retry-After");
    if (response.status === 429 && retry) message += ` (try again in ${retry} s)`;
    throw new ApiError(message, { field: body ? body.field : null, status: response.status });
  }
  return body;
}

async function send(url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ApiError("the reglab server does not answer: is `reglab serve` still running?");
  }
  return answer(response);
}

export const getJSON = (url) => send(url, { headers: { Accept: "application/json" } });

export const postJSON = (url, body = {}) => send(url, {
  method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body),
});

export const upload = (file) => send(`/api/upload?name=${encodeURIComponent(file.name)}`, {
  method: "POST", headers: { "Content-Type": file.type || "application/octet-stream" }, body: file,
});
