using Microsoft.Extensions.Time.Testing;
using Strata.Contracts.Security;
using Strata.Security.ApiKeys;
using Strata.Testing;

namespace Strata.Security.Tests;

/// <summary>The verified-key cache never outlives a key: expiry (on a fake clock) and revocation apply to a key the
/// validator already let in, on its next presentation.</summary>
public sealed class CredentialValidatorTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly ApiKeyStore _store;
    private readonly CredentialValidator _validator;

    public CredentialValidatorTests()
    {
        _store = new ApiKeyStore(Path.Combine(_folder.Path, "keys.db"), _time);
        _validator = new CredentialValidator(_store, new ServiceToken(Path.Combine(_folder.Path, "service-token"), "test"), _time);
    }

    [Fact]
    public void CachedKey_PastItsExpiry_IsRefused()
    {
        var key = _store.Create(new NewApiKey("short-lived", ["reader"], ExpiresInDays: 1), "test").Key;
        Assert.NotNull(_validator.Validate(key).Principal);
        Assert.NotNull(_validator.Validate(key).Principal); // now from the cache

        _time.Advance(TimeSpan.FromDays(1) - TimeSpan.FromSeconds(1));
        Assert.NotNull(_validator.Validate(key).Principal);
        _time.Advance(TimeSpan.FromSeconds(2));
        var (principal, failure) = _validator.Validate(key);
        Assert.Null(principal);
        Assert.Equal("the API key has expired", failure);
    }

    [Fact]
    public void CachedKey_Revoked_IsRefusedOnItsNextUse()
    {
        var created = _store.Create(new NewApiKey("revoked", ["admin"]), "test");
        Assert.NotNull(_validator.Validate(created.Key).Principal);
        _store.Revoke(created.Info.Id);
        var (principal, failure) = _validator.Validate(created.Key);
        Assert.Null(principal);
        Assert.Equal("the API key was revoked", failure);
    }

    [Fact]
    public void KeyWithAnotherSecret_SameId_IsRefused()
    {
        var created = _store.Create(new NewApiKey("genuine", ["admin"]), "test");
        Assert.NotNull(_validator.Validate(created.Key).Principal);
        var forged = created.Key[..^4] + (created.Key.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        Assert.Equal("unknown API key", _validator.Validate(forged).Failure);
    }

    public void Dispose()
    {
        _store.Dispose();
        _folder.Dispose();
    }
}
