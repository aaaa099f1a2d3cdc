using System.Security.Cryptography;
using System.Text;

namespace Strata.Security.ApiKeys;

/// <summary>The shape of a Strata API key: <c>strata_&lt;id&gt;_&lt;secret&gt;</c>, a 10-character public id (base32, shown
/// in lists and audit records) and 32 random bytes (base64url). Only the SHA-256 of the whole key is stored: with 256
/// random bits there is nothing to brute-force, so a slow password hash would only cost every request time (GitHub's
/// and Stripe's tokens are stored the same way).</summary>
public static class ApiKeyFormat
{
    public const string Prefix = "strata_";
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";
    private const int IdLength = 10;
    private const int SecretLength = 43;
    private const int MaxCredentialLength = 128;

    public static (string Id, string Key) Generate()
    {
        Span<char> id = stackalloc char[IdLength];
        Span<byte> random = stackalloc byte[IdLength];
        RandomNumberGenerator.Fill(random);
        for (var i = 0; i < IdLength; i++)
        {
            id[i] = Base32[random[i] & 31];
        }
        var idText = new string(id);
        return (idText, $"{Prefix}{idText}_{RandomSecret()}");
    }

    /// <summary>32 random bytes, base64url without padding (43 characters): the secret of keys and of the service token.</summary>
    public static string RandomSecret() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The key's public id, or null when <paramref name="key"/> is not shaped like a Strata key.</summary>
    public static string? IdOf(ReadOnlySpan<char> key)
    {
        if (key.Length != Prefix.Length + IdLength + 1 + SecretLength || !key.StartsWith(Prefix, StringComparison.Ordinal) || key[Prefix.Length + IdLength] != '_')
        {
            return null;
        }
        var id = key.Slice(Prefix.Length, IdLength);
        foreach (var c in id)
        {
            if (Base32.IndexOf(c, StringComparison.Ordinal) < 0)
            {
                return null;
            }
        }
        return id.ToString();
    }

    public static byte[] Hash(ReadOnlySpan<char> key)
    {
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        var length = Encoding.UTF8.GetBytes(key, utf8);
        return SHA256.HashData(utf8[..length]);
    }

    /// <summary>Whether <paramref name="key"/> hashes to <paramref name="hash"/>, in time independent of where they differ.
    /// Anything longer than a credential can be is refused unhashed (the UTF-8 buffer is on the stack).</summary>
    public static bool Matches(ReadOnlySpan<char> key, ReadOnlySpan<byte> hash)
    {
        if (key.Length > MaxCredentialLength)
        {
            return false;
        }
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        var length = Encoding.UTF8.GetBytes(key, utf8);
        Span<byte> actual = stackalloc byte[32];
        SHA256.HashData(utf8[..length], actual);
        return CryptographicOperations.FixedTimeEquals(actual, hash);
    }
}
