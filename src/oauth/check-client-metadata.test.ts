import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSelfAssertedMetadata } from './check-client-metadata.js';

const base = { application_type: 'native', redirect_uris: ['http://127.0.0.1:9/cb'] };

describe('checkSelfAssertedMetadata', () => {
  it('accepts a registration for people: authorization code and refresh tokens', () => {
    assert.equal(
      checkSelfAssertedMetadata(
        { ...base, grant_types: ['authorization_code', 'refresh_token'] },
        'registration',
      ),
      undefined,
    );
    assert.equal(checkSelfAssertedMetadata(base, 'registration'), undefined);
  });

  it('refuses client_credentials from either source, alone or beside other grants', () => {
    for (const grants of [['client_credentials'], ['authorization_code', 'client_credentials']]) {
      for (const source of ['registration', 'metadata-document'] as const) {
        assert.match(
          checkSelfAssertedMetadata({ ...base, grant_types: grants }, source) ?? '',
          /client_credentials is not available/,
        );
      }
    }
  });

  it('refuses grants that are not for people and grant_types that are not a list', () => {
    assert.match(
      checkSelfAssertedMetadata({ ...base, grant_types: ['implicit'] }, 'registration') ?? '',
      /only authorization_code and refresh_token/,
    );
    assert.match(
      checkSelfAssertedMetadata({ ...base, grant_types: 'authorization_code' }, 'registration') ?? '',
      /must be an array/,
    );
  });

  it('refuses every server-side property, whatever its value', () => {
    for (const key of ['portcullis_created_by', 'portcullis_scopes', 'portcullis_anything']) {
      assert.match(
        checkSelfAssertedMetadata({ ...base, [key]: 'operator' }, 'metadata-document') ?? '',
        /set by the server/,
      );
    }
  });

  it('requires a known application_type from registrations, not from metadata documents', () => {
    const { application_type: _none, ...without } = base;
    assert.match(checkSelfAssertedMetadata(without, 'registration') ?? '', /application_type is required/);
    assert.match(
      checkSelfAssertedMetadata({ ...base, application_type: 'desktop' }, 'registration') ?? '',
      /"native" or "web"/,
    );
    assert.equal(checkSelfAssertedMetadata(without, 'metadata-document'), undefined);
  });
});
