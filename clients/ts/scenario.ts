// One selection from step 1 to step 4 through a client generated from openapi/openapi.json
// (openapi-typescript) and openapi-fetch, as a front-end would write it: type-checked with
// `tsc --strict`, then run against a live server. Usage: node scenario.js BASE_URL ADMIN PASSWORD.
// It prints one JSON object of what it saw; tests/api/test_typescript_client.py checks it.
import createClient from "openapi-fetch";
import type { components, paths } from "./api.js";

type Schemas = components["schemas"];
type Client = ReturnType<typeof createClient<paths>>;

const [baseUrl, adminName, adminPassword] = process.argv.slice(2);
const seen: Record<string, unknown> = {};

/** The body of a successful answer, or a thrown error naming the step and the problem. */
function ok<T>(step: string, answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data === undefined) {
    throw new Error(`${step}: ${answer.response.status} ${JSON.stringify(answer.error)}`);
  }
  return answer.data;
}

function clientFor(token?: string): Client {
  return createClient<paths>({
    baseUrl,
    headers: token ? { Authorization: `Bearer ${token}`, "Accept-Language": "zh-CN" } : {},
  });
}

async function login(username: string, password: string): Promise<Client> {
  const token = ok("login " + username, await clientFor().POST("/api/v1/auth/token", {
    body: { username, password },
    bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  }));
  return clientFor(token.access_token);
}

async function createUser(api: Client, username: string, roles: Schemas["Role"][],
                          password: string): Promise<string> {
  const user = ok("create " + username, await api.POST("/api/v1/users", {
    body: { username, roles, password },
  }));
  return user.id;
}

async function advance(api: Client, days: number): Promise<void> {
  ok(`advance ${days} days`, await api.POST("/api/v1/admin/clock/advance", { body: { days } }));
}

const satisfactory = { satisfactory: true };
const assessment: Schemas["PrereviewDecision"]["assessment"] = {
  ideas_and_plans: satisfactory, role_understanding: satisfactory, moral: satisfactory,
  intellectual: satisfactory, physical: satisfactory, integrity: satisfactory,
  mass_recognition: satisfactory,
};

async function main(): Promise<void> {
  const admin = await login(adminName, adminPassword);
  const me = ok("me", await admin.GET("/api/v1/auth/me"));
  ok("clock", await admin.PUT("/api/v1/admin/clock", { body: { day: "2026-09-30" } }));

  // Step 1: the job description (职务说明书). Fields with defaults may be left out.
  const created = await admin.POST("/api/v1/selections", { body: {
    title: "第一党支部书记公开选拔", organization: "机关第一党支部",
    job_description: { duties: ["主持支部全面工作", "落实党建工作责任制"],
                       requirements: { min_education: "bachelor", max_age: 45 } },
  } });
  let selection = ok("create selection", created);
  seen.created = { state: selection.state, status: created.response.status,
                   location: created.response.headers.get("Location") };
  const etag = created.response.headers.get("ETag") ?? "";
  const stale = await admin.PATCH("/api/v1/selections/{selection_id}", {
    params: { path: { selection_id: selection.id }, header: { "If-Match": '"stale"' } },
    body: { title: "第一党支部书记公开选拔（修订）" },
  });
  seen.stale_patch = { status: stale.response.status, code: stale.error?.code };
  selection = ok("patch", await admin.PATCH("/api/v1/selections/{selection_id}", {
    params: { path: { selection_id: selection.id }, header: { "If-Match": etag } },
    body: { settings: { min_party_lesson_hours: 4 } },
  }));
  const sel = { path: { selection_id: selection.id } };

  // Step 2: publicity and nomination (公示与推荐).
  selection = ok("publish", await admin.POST("/api/v1/selections/{selection_id}/actions/publish", {
    params: sel, body: { params: { start_on: "2026-09-30", working_days: 5 } },
  }));
  seen.published = { state: selection.state, publicity_end_on: selection.publicity_end_on };
  // A read with the ETag it has: 304, nothing to download again.
  const current = await admin.GET("/api/v1/selections/{selection_id}", { params: sel });
  const unchanged = await admin.GET("/api/v1/selections/{selection_id}", {
    params: { ...sel, header: { "If-None-Match": current.response.headers.get("ETag") ?? "" } },
  });
  seen.not_modified = unchanged.response.status;

  // Step 2: a nominating body's account (党、政、工、团), typed in both of its forms.
  const nominator = ok("create nominator", await admin.POST("/api/v1/users", {
    body: { username: "nom1", roles: ["nominator"],
            nominating_body: { kind: "party_organization", name: "机关党委" } },
  }));
  seen.nominator = { roles: nominator.roles, nominating_body: nominator.nominating_body };
  const nominated = ok("nominate", await admin.POST("/api/v1/selections/{selection_id}/nominations", {
    params: sel, body: {
      kind: "party_organization", body_name: "机关党委",
      nominee: { full_name: "李明", gender: "male", birth_date: "1988-05-12",
                 education: "bachelor", party_joined_on: "2012-07-01",
                 work_started_on: "2010-07-01", current_post: "办公室副主任", unit: "机关办公室",
                 email: "liming@example.cn" },
      reasons: "政治素质好，群众基础扎实", groundwork: "走访同事8人，查阅档案，无不良记录",
    },
  }));
  const li = nominated.candidate.id;
  const cand = { path: { candidate_id: li } };
  ok("consent", await admin.POST("/api/v1/candidates/{candidate_id}/actions/consent", {
    params: cand,
    body: { params: { confirmed_by: "王组织委员", confirmed_at: "2026-09-30T08:30:00+08:00" } },
  }));
  const early = await admin.POST("/api/v1/selections/{selection_id}/actions/close_nominations",
                                 { params: sel });
  seen.early_close = { status: early.response.status, code: early.error?.code };
  await advance(admin, 14);
  selection = ok("close nominations", await admin.POST(
    "/api/v1/selections/{selection_id}/actions/close_nominations", { params: sel }));

  // Step 3: the three reviews (资格预审, 面议评审, 组织考察).
  ok("prereview", await admin.POST("/api/v1/selections/{selection_id}/prereview", {
    params: sel, body: { decisions: [{ candidate_id: li, decision: "pass", assessment }] },
  }));
  const judges: string[] = [];
  for (let i = 1; i <= 7; i++) {
    judges.push(await createUser(admin, `judge${i}`, ["judge"], `judge-pass-${i}`));
  }
  ok("panel", await admin.PUT("/api/v1/selections/{selection_id}/panel", {
    params: sel, body: { judge_ids: judges },
  }));
  await advance(admin, 6);
  ok("interview", await admin.PUT("/api/v1/selections/{selection_id}/interview", {
    params: sel, body: { held_on: "2026-10-20", place: "三楼会议室" },
  }));
  ok("briefing", await admin.POST("/api/v1/selections/{selection_id}/interview/briefings", {
    params: sel, body: { held_at: "2026-10-20T00:30:00Z", held_by: me.id, attendees: judges },
  }));
  const judgeClients: Client[] = [];
  for (let i = 1; i <= 7; i++) {
    const judge = await login(`judge${i}`, `judge-pass-${i}`);
    judgeClients.push(judge);
    ok("materials", await judge.POST(
      "/api/v1/selections/{selection_id}/interview/materials-receipts", { params: sel, body: {} }));
  }
  ok("draw", await admin.POST("/api/v1/selections/{selection_id}/interview/draw", {
    params: sel, body: { seed: "20261020-0900" },
  }));
  ok("start", await admin.POST("/api/v1/selections/{selection_id}/interview/start", { params: sel }));
  const segments: Schemas["Segment"][] = ["self_introduction", "role_cognition", "questions",
                                          "answers"];
  for (const segment of segments) {
    for (const mark of ["begin", "end"] as const) {
      ok(`${segment} ${mark}`, await admin.POST(
        "/api/v1/candidates/{candidate_id}/interview/segments/{segment}/{mark}",
        { params: { path: { candidate_id: li, segment, mark } } }));
    }
  }
  for (const [i, judge] of judgeClients.entries()) {
    ok("declare", await judge.POST("/api/v1/selections/{selection_id}/declarations", {
      params: sel, body: { candidate_id: li, conflict: "none" },
    }));
    ok("sheet", await judge.POST("/api/v1/candidates/{candidate_id}/score-sheets", {
      params: cand, body: { scores: { self_introduction: 80 + i, role_cognition: 84 + i,
                                      answers: 82 + i, overall_impression: 80 + i } },
    }));
  }
  ok("pass interview", await admin.POST("/api/v1/candidates/{candidate_id}/actions/pass_interview",
                                        { params: cand }));
  const inspectors = [await createUser(admin, "inspector1", ["inspector"], "inspector-pass-1"),
                      await createUser(admin, "inspector2", ["inspector"], "inspector-pass-2")];
  ok("team", await admin.PUT("/api/v1/candidates/{candidate_id}/inspection-team", {
    params: cand, body: { inspector_ids: inspectors },
  }));
  await advance(admin, 2);
  const inspector = await login("inspector1", "inspector-pass-1");
  ok("declare as inspector", await inspector.POST("/api/v1/selections/{selection_id}/declarations", {
    params: sel, body: { candidate_id: li, capacity: "inspector", conflict: "none" },
  }));
  ok("inspection record", await inspector.POST("/api/v1/candidates/{candidate_id}/inspection-records", {
    params: cand,
    body: { kind: "conversation", held_on: "2026-10-22", count: 12, summary: "个别谈话12人，反映良好" },
  }));
  const inspected = ok("pass inspection", await inspector.POST(
    "/api/v1/candidates/{candidate_id}/actions/pass_inspection", { params: cand, body: { params: {
      appraisal: { participants: 40, excellent: 30, competent: 8, basically_competent: 2,
                   incompetent: 0 },
      findings: { de: "政治坚定", neng: "协调能力强", qin: "工作勤勉", ji: "业绩突出", lian: "廉洁自律" },
      summary: "考察合格",
    } } }));
  seen.inspected = inspected.state;
  selection = ok("submit", await admin.POST(
    "/api/v1/selections/{selection_id}/actions/submit_to_committee", { params: sel }));

  // The party committee's decision (党委会审核).
  const members: string[] = [];
  for (let i = 1; i <= 5; i++) {
    members.push(await createUser(admin, `member${i}`, ["committee"], `member-pass-${i}`));
  }
  await advance(admin, 6);
  const meeting = ok("meeting", await admin.POST("/api/v1/selections/{selection_id}/committee-meetings", {
    params: sel, body: {
      held_on: "2026-10-28", members_due: members, present: members.slice(0, 4),
      decisions: [{ candidate_id: li, votes_for: 4, votes_against: 0, abstentions: 0,
                    outcome: "appointed" }],
      minutes: "党委会审议面议及考察情况，逐人表决",
    },
  }));
  seen.decisions = meeting.decisions.map((d) => ({ outcome: d.outcome, votes_for: d.votes_for }));
  selection = ok("finish decision", await admin.POST(
    "/api/v1/selections/{selection_id}/actions/finish_decision", { params: sel }));

  // Step 4: the follow-up (后期跟进): the trial after the appointment's publicity.
  await advance(admin, 8);
  const onTrial = ok("start trial", await admin.POST(
    "/api/v1/candidates/{candidate_id}/actions/start_trial",
    { params: cand, body: { params: { unit: "第三车间", post: "党支部副书记（实习）" } } }));
  await advance(admin, 3);
  const today = ok("clock", await admin.GET("/api/v1/admin/clock")).today;
  ok("follow-up record", await admin.POST("/api/v1/candidates/{candidate_id}/follow-up-records", {
    params: cand, body: { kind: "party_lesson", held_on: today, subject: "党章学习",
                          hours: 4, attended: true },
  }));
  const followUp = ok("follow-up", await admin.GET("/api/v1/candidates/{candidate_id}/follow-up",
                                                   { params: cand }));
  const events = ok("events", await admin.GET("/api/v1/candidates/{candidate_id}/events", {
    params: { path: { candidate_id: li }, query: { limit: 200 } },
  }));
  const english = ok("actions in English", await admin.GET(
    "/api/v1/candidates/{candidate_id}/actions",
    { params: { path: { candidate_id: li }, header: { "Accept-Language": "en" } } }));
  seen.final = {
    selection_state: selection.state, candidate_state: onTrial.state,
    records: followUp.records.map((r) => r.kind), follow_up_state: followUp.state,
    actions: events.items.map((e) => e.action), state_label_en: english.state_label,
  };
  console.log(JSON.stringify(seen));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
