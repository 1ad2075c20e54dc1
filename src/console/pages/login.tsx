import { Layout } from "./layout";

/** Sign-in: a tenant key (id and secret, or the bearer token in the first field) or the operator's admin token. */
export function LoginPage(props: { error?: string }) {
  return (
    <Layout title="Sign in" session={null}>
      <h1>Sign in</h1>
      {props.error && <p class="error" role="alert">{props.error}</p>}
      <form method="post" action="/console/login" class="card login">
        <fieldset>
          <legend>Tenant</legend>
          <label>
            Access key id (or bearer token)
            <input name="accessKeyId" autocomplete="username" spellcheck={false} />
          </label>
          <label>
            Secret access key
            <input name="secret" type="password" autocomplete="current-password" />
          </label>
        </fieldset>
        <fieldset>
          <legend>Operator</legend>
          <label>
            Admin token
            <input name="adminToken" type="password" autocomplete="off" />
          </label>
        </fieldset>
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}
