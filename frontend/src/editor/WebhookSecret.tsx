/** The signing secret of a webhook just created or rotated, shown this once, with how to sign a delivery. */

import type { Webhook } from '../api/webhooks';
import { CopyButton } from '../ui/CopyButton';
import { exampleBody, SIGNATURE_HEADER, signingExample, webhookUrl } from './webhookForm';

/** A secret the server just gave: it is never shown again once this box is closed. */
export interface RevealedSecret {
  webhook: Webhook;
  secret: string;
  /** Why there is a secret: a new webhook, or a new secret for an existing one. */
  reason: 'created' | 'rotated';
}

interface WebhookSecretProps {
  revealed: RevealedSecret;
  onDone: () => void;
}

export function WebhookSecret({ revealed, onDone }: WebhookSecretProps) {
  const { webhook, secret, reason } = revealed;
  const url = webhookUrl(window.location.origin, webhook.url);
  const example = signingExample(url, secret, exampleBody(webhook));
  return (
    <section className="webhook-secret" role="alert" aria-label={`Signing secret of ${webhook.name}`} data-testid="webhook-secret-box" data-webhook={webhook.id}>
      <h3 className="webhook-secret-title">
        {reason === 'created' ? `“${webhook.name}” is ready. Its signing secret:` : `New signing secret of “${webhook.name}”:`}
      </h3>
      <div className="webhook-secret-line">
        <code className="webhook-secret-value" data-testid="webhook-secret">
          {secret}
        </code>
        <CopyButton text={secret} what="the secret" testId="webhook-secret-copy" />
      </div>
      <p className="webhook-secret-warning" data-testid="webhook-secret-warning">
        <strong>Copy it now: it will not be shown again.</strong>{' '}
        {reason === 'rotated' ? 'The old secret has stopped working: give this one to the sender.' : 'Give it to the system that sends the requests.'}
      </p>
      <details className="webhook-example" open>
        <summary>How to sign a delivery</summary>
        <p className="hint">
          Sign <code>&lt;unix seconds&gt;.&lt;body&gt;</code> with HMAC-SHA256 and send{' '}
          <code className="nowrap">
            {SIGNATURE_HEADER}: t=&lt;seconds&gt;,v1=&lt;hex&gt;
          </code>
          . A timestamp more than 5 minutes off is refused.{' '}
          {webhook.message ? (
            'The answer says which runs the message reached.'
          ) : (
            <>
              Add <code>?wait=10</code> to the URL to get the run’s output in the answer.
            </>
          )}
        </p>
        <div className="webhook-example-head">
          <span className="small muted">In a shell with curl and openssl; the body is an example:</span>
          <CopyButton text={example} what="the example" testId="webhook-example-copy" />
        </div>
        <pre className="webhook-example-code mono" data-testid="webhook-example">
          {example}
        </pre>
      </details>
      <div className="actions">
        <button type="button" className="btn btn-small btn-primary" onClick={onDone} data-testid="webhook-secret-done">
          I have stored it
        </button>
      </div>
    </section>
  );
}
