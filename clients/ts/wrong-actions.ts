// Mistakes a generated client must refuse at compile time: tsc --strict fails on each line
// marked `// wrong:` and nowhere else (tests/api/test_typescript_client.py).
import createClient from "openapi-fetch";
import type { components, paths } from "./api.js";

const api = createClient<paths>({ baseUrl: "http://127.0.0.1:8000" });
const sel = { path: { selection_id: "5b0c2f6a-9d1e-4c7b-8a3f-2e1d0c9b8a7f" } };
const cand = { path: { candidate_id: "7d3e1a52-4c8b-4f0e-9b6a-1c2d3e4f5a6b" } };

export async function mistakes(): Promise<void> {
  // The right calls compile:
  await api.POST("/api/v1/selections/{selection_id}/actions/publish", {
    params: sel, body: { params: { start_on: "2026-09-30", working_days: 5 } } });
  await api.POST("/api/v1/candidates/{candidate_id}/actions/withdraw", {
    params: cand, body: { reason: "个人原因" } });
  // A misspelled action:
  await api.POST("/api/v1/selections/{selection_id}/actions/pubish", { params: sel }); // wrong: unknown action
  // A parameter of the wrong type:
  await api.POST("/api/v1/selections/{selection_id}/actions/publish", {
    params: sel, body: { params: { working_days: "5" } } }); // wrong: working_days is a number
  // A parameter the action does not take, in a body typed as the action's request (openapi-fetch
  // infers its argument's type, so TypeScript checks no excess property of an inline literal):
  const body: components["schemas"]["SelectionPublishRequest"] = {
    params: { start_day: "2026-09-30" } }; // wrong: no such parameter
  await api.POST("/api/v1/selections/{selection_id}/actions/publish", { params: sel, body });
  // A reason left out where the action requires one:
  await api.POST("/api/v1/candidates/{candidate_id}/actions/withdraw", { params: cand, body: {} }); // wrong: reason required
  // An action of another machine:
  await api.POST("/api/v1/selections/{selection_id}/actions/consent", { params: sel }); // wrong: a candidate's action
  // A problem code the operation never answers (each operation's error `code` is the union of
  // its own codes):
  const { error } = await api.GET("/api/v1/selections/{selection_id}", { params: sel });
  if (error?.code === "selection_not_found") console.log("gone");
  if (error?.code === "publicity_not_ended") console.log("never"); // wrong: reading a selection never answers it
}
