using System.Security.Cryptography.X509Certificates;

namespace Strata.Security.Certificates;

/// <summary>A Strata service identity as a certificate carries it: the SPIFFE URI <c>spiffe://strata/&lt;name&gt;</c> in
/// the subject alternative name.</summary>
public static class ServiceIdentity
{
    public const string TrustDomain = "strata";

    public static Uri UriOf(string identity) => new($"spiffe://{TrustDomain}/{identity}");

    public static bool IsValidName(string identity) =>
        identity.Length is > 0 and <= 63 && identity.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    /// <summary>The identity a certificate names, or null when it names no Strata service.</summary>
    public static string? Of(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value == SubjectAlternativeName)
            {
                try
                {
                    return FromNames(extension.RawData);
                }
                catch (System.Formats.Asn1.AsnContentException)
                {
                    return null;
                }
            }
        }
        return null;
    }

    private const string SubjectAlternativeName = "2.5.29.17";

    /// <summary>The URI names of a subjectAltName (RFC 5280: a sequence of GeneralName, a URI being <c>[6] IA5String</c>);
    /// .NET's extension type enumerates DNS names and addresses only.</summary>
    private static string? FromNames(byte[] encoded)
    {
        var uriTag = new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 6);
        var names = new System.Formats.Asn1.AsnReader(encoded, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence();
        while (names.HasData)
        {
            if (names.PeekTag() != uriTag)
            {
                names.ReadEncodedValue();
                continue;
            }
            var uri = names.ReadCharacterString(System.Formats.Asn1.UniversalTagNumber.IA5String, uriTag);
            var prefix = $"spiffe://{TrustDomain}/";
            if (uri.StartsWith(prefix, StringComparison.Ordinal) && uri[prefix.Length..] is var name && IsValidName(name))
            {
                return name;
            }
        }
        return null;
    }
}
