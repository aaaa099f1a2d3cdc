using System.Collections.Concurrent;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Http;
using Strata.ServiceDefaults.Modules;
using Strata.ServiceDefaults.Security;

namespace Strata.Cli.Tests.Modules;

/// <summary>A module that exists only in this test assembly: notes kept in memory, with a client interface, an
/// in-process implementation, an HTTP client and endpoints that share their route strings. It proves that a module is
/// added by declaring it once.</summary>
public static class NotesModule
{
    public const string Name = "notes";

    public static ModuleDescriptor Descriptor { get; } = new()
    {
        Name = Name,
        UrlPrefixes = [NotesRoutes.Prefix],
        Authorization = new RouteAuthorization
        {
            ["POST " + NotesRoutes.Prefix + NotesRoutes.Notes] = Permissions.WriteData,
            ["GET " + NotesRoutes.Prefix + NotesRoutes.Note] = Permissions.Read,
        },
        AddServices = c => c.Services.AddSingleton<INotesClient, NotesStore>(),
        MapEndpoints = app =>
        {
            var api = app.MapGroup(NotesRoutes.Prefix).WithTags("Notes");
            api.MapPost(NotesRoutes.Notes, async (NewNote? note, INotesClient notes, CancellationToken ct) =>
                TypedResults.Ok(await notes.AddAsync(note?.Text ?? throw new InputValidationException("text", "is required"), ct)));
            api.MapGet(NotesRoutes.Note, async (string id, INotesClient notes, CancellationToken ct) =>
                TypedResults.Ok(await notes.GetAsync(id, ct) ?? throw new ResourceNotFoundException("note", id)));
        },
        AddHttpClient = (c, url) => c.Services.AddModuleHttpClient<INotesClient, HttpNotesClient>(Name, url, retryUnsafeMethods: false),
    };
}

/// <summary>The notes module's routes.</summary>
public static class NotesRoutes
{
    public const string Prefix = "/api/notes";
    public const string Notes = "/notes";
    public const string Note = "/notes/{id}";
}

public sealed record NewNote(string? Text);

public sealed record Note(string Id, string Text);

/// <summary>The notes module's client interface.</summary>
public interface INotesClient
{
    Task<Note> AddAsync(string text, CancellationToken cancellationToken = default);

    Task<Note?> GetAsync(string id, CancellationToken cancellationToken = default);
}

/// <summary>The in-process notes.</summary>
public sealed class NotesStore : INotesClient
{
    private readonly ConcurrentDictionary<string, Note> _notes = new(StringComparer.Ordinal);

    public Task<Note> AddAsync(string text, CancellationToken cancellationToken = default)
    {
        var note = new Note(Guid.NewGuid().ToString("N"), text);
        _notes[note.Id] = note;
        return Task.FromResult(note);
    }

    public Task<Note?> GetAsync(string id, CancellationToken cancellationToken = default) => Task.FromResult(_notes.GetValueOrDefault(id));
}

/// <summary>The notes over HTTP, on the same route strings as the endpoints.</summary>
public sealed class HttpNotesClient(HttpClient http) : INotesClient
{
    public async Task<Note> AddAsync(string text, CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<Note>(http, NotesModule.Name, () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(NotesRoutes.Prefix, NotesRoutes.Notes))
        { Content = JsonContent.Create(new NewNote(text), options: StrataJson.Options) }, cancellationToken))!;

    public Task<Note?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        ModuleHttp.SendAsync<Note>(http, NotesModule.Name, () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(NotesRoutes.Prefix, NotesRoutes.Note, id)),
            cancellationToken, notFoundAsNull: true);
}
