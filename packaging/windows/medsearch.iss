; Inno Setup 6 script for the Windows installer of MedSearch. NOT BUILT OR TESTED: the build
; machines of this project run Linux. Build steps and what is unproven: README.md beside it.
; Input: dist\MedSearch\ (the PyInstaller folder, built on Windows by packaging\medsearch.spec).
;
; IT, silently:   medsearch-0.1.0-windows-x64-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /ALLUSERS
;                 (per user without admin rights: /CURRENTUSER; another folder: /DIR="D:\Apps\MedSearch")
; Uninstall:      "%ProgramFiles%\MedSearch\unins000.exe" /VERYSILENT   (keeps the user's library)
;                 add /PURGE to delete the data of the user running it as well

#define AppVersion "0.1.0"

[Setup]
AppId={{5B0F3E0C-6D0B-4C8E-9B51-2E7A4F0C9D11}
AppName=MedSearch
AppVersion={#AppVersion}
AppPublisher=MedSearch
DefaultDirName={autopf}\MedSearch
DefaultGroupName=MedSearch
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=medsearch-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
UninstallDisplayIcon={app}\medsearch.exe
; An interrupted install is rolled back by Setup itself: no half-installed app is left to start.

[Tasks]
Name: "desktopicon"; Description: "Create a desktop icon"; Flags: unchecked

[Files]
Source: "..\..\dist\MedSearch\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{autoprograms}\MedSearch"; Filename: "{app}\medsearch.exe"; Parameters: "gui"
Name: "{autodesktop}\MedSearch"; Filename: "{app}\medsearch.exe"; Parameters: "gui"; Tasks: desktopicon

[Run]
; The self-test after installing: model, embedder, index, PDF, gauges (no window while Setup runs).
Filename: "{app}\medsearch.exe"; Parameters: "selftest --no-window"; Flags: runhidden waituntilterminated; StatusMsg: "Checking MedSearch on this computer..."
Filename: "{app}\medsearch.exe"; Parameters: "gui"; Description: "Start MedSearch"; Flags: postinstall nowait skipifsilent

[Code]
function PurgeRequested(): Boolean;
var
  I: Integer;
begin
  Result := False;
  for I := 1 to ParamCount do
    if CompareText(ParamStr(I), '/PURGE') = 0 then
      Result := True;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Code: Integer;
begin
  { The user's library lives in %LOCALAPPDATA%\MedSearch and is kept unless /PURGE is given. }
  if (CurUninstallStep = usUninstall) and PurgeRequested() then
    Exec(ExpandConstant('{app}\medsearch.exe'), 'delete-data --yes --models', '',
         SW_HIDE, ewWaitUntilTerminated, Code);
end;
