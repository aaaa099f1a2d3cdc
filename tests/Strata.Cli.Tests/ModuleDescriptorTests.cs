using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Strata.Cli.Commands;
using Strata.Cli.Tests.Modules;
using Strata.Contracts;
using Strata.Hosting;
using Strata.ServiceDefaults.Modules;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>A module defined only in this test assembly is added by its descriptor and nothing else: hosted in process
/// beside the real modules, and as its own process behind the gateway, its routes, OpenAPI document and HTTP client
/// all come from the descriptor.</summary>
public sealed class ModuleDescriptorTests
{
    private static readonly IReadOnlyList<ModuleDescriptor> Catalog = [.. StrataModules.All, NotesModule.Descriptor, DigestModule.Descriptor];

    [Fact]
    public async Task Monolith_TestModules_AreHostedBesideTheRealOnes_WithInProcessClients()
    {
        using var folder = new TempFolder();
        await using var app = StrataHost.Build(HostSettings.Monolith(0, folder.Path, Catalog));
        await app.StartAsync();
        using var http = TestKeys.Authorize(new HttpClient { BaseAddress = HostRunner.Address(app) }, TestKeys.Create(app.Services));

        var note = await AddNoteAsync(http, "hello");
        var digest = await http.GetFromJsonAsync<DigestAnswer>($"/api/digest/{note.Id}", StrataJson.Options);
        Assert.Equal(new DigestAnswer("HELLO", nameof(NotesStore)), digest);
        await AssertOpenApiAsync(http);
        // The real modules are there too.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/api/features/views", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Microservices_TestModules_OnPortsOfTheirOwn_BehindTheGateway_CallEachOtherOverHttp()
    {
        using var folder = new TempFolder();
        IReadOnlyList<ModuleDescriptor> catalog = [Strata.Security.SecurityModule.Descriptor, NotesModule.Descriptor, DigestModule.Descriptor];
        // Every process checks keys against the security module's.
        await using var security = await StartAsync(new HostSettings([ModuleNames.Security], 0, folder.Path) { Catalog = catalog });
        var securityUrl = HostRunner.Address(security).ToString();
        // Created before the other processes start, so the first snapshot of the keys each of them loads has it.
        var key = TestKeys.Create(security.Services);
        await using var notes = await StartAsync(new HostSettings([NotesModule.Name], 0, folder.Path)
        {
            Catalog = catalog,
            ServiceUrls = new Dictionary<string, string> { [ModuleNames.Security] = securityUrl },
        });
        var notesUrl = HostRunner.Address(notes).ToString();
        await using var digest = await StartAsync(new HostSettings([DigestModule.Name], 0, folder.Path)
        {
            Catalog = catalog,
            ServiceUrls = new Dictionary<string, string> { [NotesModule.Name] = notesUrl, [ModuleNames.Security] = securityUrl },
        });
        await using var gateway = await StartAsync(new HostSettings([HostSettings.Gateway], 0, folder.Path)
        {
            Catalog = catalog,
            ServiceUrls = new Dictionary<string, string>
            {
                [NotesModule.Name] = notesUrl, [DigestModule.Name] = HostRunner.Address(digest).ToString(), [ModuleNames.Security] = securityUrl,
            },
        });
        using var http = TestKeys.Authorize(new HttpClient { BaseAddress = HostRunner.Address(gateway) }, key);
        await WaitForKeysAsync([notes, digest, gateway]);

        var note = await AddNoteAsync(http, "over the wire");
        var answer = await http.GetFromJsonAsync<DigestAnswer>($"/api/digest/{note.Id}", StrataJson.Options);
        Assert.Equal(new DigestAnswer("OVER THE WIRE", nameof(HttpNotesClient)), answer);
        // The HTTP client maps a 404 to null, as the in-process one does; the endpoint answers a problem naming it.
        using var missing = await http.GetAsync(new Uri("/api/digest/nope", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        await AssertOpenApiAsync(http);
        // Only what the descriptors declare is proxied.
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("/api/features/views", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public void Build_ModuleCallsAModuleHostedNowhere_FailsNamingTheSetting()
    {
        using var folder = new TempFolder();
        var e = Assert.Throws<ArgumentException>(() => StrataHost.Build(new HostSettings([DigestModule.Name], 0, folder.Path)
        {
            Catalog = [Strata.Security.SecurityModule.Descriptor, NotesModule.Descriptor, DigestModule.Descriptor],
        }));
        Assert.Contains("Strata:Services:notes", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Processes without the security module are ready once they have the keys.</summary>
    private static async Task WaitForKeysAsync(IEnumerable<WebApplication> processes)
    {
        foreach (var process in processes)
        {
            using var probe = new HttpClient { BaseAddress = HostRunner.Address(process) };
            await Readiness.WaitAsync(probe, TimeSpan.FromSeconds(30), CancellationToken.None);
        }
    }

    private static async Task<WebApplication> StartAsync(HostSettings settings)
    {
        var app = StrataHost.Build(settings);
        await app.StartAsync();
        return app;
    }

    private static async Task<Note> AddNoteAsync(HttpClient http, string text)
    {
        using var response = await http.PostAsJsonAsync("/api/notes/notes", new NewNote(text), StrataJson.Options);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Note>(StrataJson.Options))!;
    }

    private static async Task AssertOpenApiAsync(HttpClient http)
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("/openapi/notes.json", UriKind.Relative)));
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).Order().ToList();
        Assert.Equal(["/api/notes/notes", "/api/notes/notes/{id}"], paths);
        using var digest = JsonDocument.Parse(await http.GetStringAsync(new Uri("/openapi/digest.json", UriKind.Relative)));
        Assert.True(digest.RootElement.GetProperty("paths").TryGetProperty("/api/digest/{id}", out _));
    }
}
