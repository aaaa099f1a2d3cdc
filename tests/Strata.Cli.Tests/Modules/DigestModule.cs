using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts.Errors;
using Strata.ServiceDefaults.Modules;
using Strata.ServiceDefaults.Security;

namespace Strata.Cli.Tests.Modules;

/// <summary>A second test-only module that calls the notes module through its client interface only: in process when
/// both are hosted together, over HTTP when notes runs elsewhere.</summary>
public static class DigestModule
{
    public const string Name = "digest";
    public const string Prefix = "/api/digest";

    public static ModuleDescriptor Descriptor { get; } = new()
    {
        Name = Name,
        Calls = [NotesModule.Name],
        UrlPrefixes = [Prefix],
        Authorization = new RouteAuthorization { ["GET " + Prefix + "/{id}"] = Permissions.Read },
        AddServices = _ => { },
        MapEndpoints = app => app.MapGet(Prefix + "/{id}", async (string id, INotesClient notes, CancellationToken ct) =>
        {
            var note = await notes.GetAsync(id, ct) ?? throw new ResourceNotFoundException("note", id);
            return TypedResults.Ok(new DigestAnswer(note.Text.ToUpperInvariant(), notes.GetType().Name));
        }),
        AddHttpClient = (_, _) => throw new InvalidOperationException("nothing calls the digest module"),
    };
}

/// <summary>The digest of a note and which implementation of the notes client produced it.</summary>
public sealed record DigestAnswer(string Digest, string Client);
